-- Recorded slots whose call has not finished, oldest first: this pass's, and any a deposed
-- leader recorded and never finished.
SELECT cron_job_id, tenant, (extract(epoch FROM slot) * 1000)::double precision AS slot_ms, request, client_token, attempts
FROM stratus_cron_slots
WHERE state = 'pending'
ORDER BY slot, cron_job_id
LIMIT $1
