-- Every recorded slot, for the audit.
SELECT cron_job_id, (extract(epoch FROM slot) * 1000)::double precision AS slot_ms, writes, state, client_token
FROM stratus_cron_slots
