-- A page of one cron job's runs, newest slot first, before the cursor's slot ($3, NULL: from the newest).
SELECT s.slot, s.state, s.attempts, s.caught_up, s.recorded_at, s.finished_at, s.duration_ms,
       s.http_status, s.error
FROM stratus_cron_slots s
WHERE s.cron_job_id = $1 AND s.tenant = $2 AND ($3::timestamptz IS NULL OR s.slot < $3)
ORDER BY s.slot DESC
LIMIT $4
