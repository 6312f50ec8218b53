-- The newest $2 terms, of the key named $1 (NULL: every key), newest first.
SELECT key_id, key, epoch, holder, backend_pid, acquired_at, ended_at, reason
FROM stratus_leadership_journal
WHERE ($1::text IS NULL OR key = $1::text)
ORDER BY acquired_at DESC, key_id, epoch DESC
LIMIT $2
