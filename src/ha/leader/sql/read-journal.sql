SELECT key_id, key, epoch, holder, backend_pid, acquired_at, ended_at, reason
FROM stratus_leadership_journal
WHERE ($1::int4 IS NULL OR key_id = $1) AND acquired_at >= $2
ORDER BY acquired_at, key_id, epoch
LIMIT $3
