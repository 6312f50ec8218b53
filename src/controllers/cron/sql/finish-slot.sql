-- The outcome of one attempt at a slot's call ($3 state: pending again after a passing
-- failure, or succeeded / failed), in the term's fenced transaction.
UPDATE stratus_cron_slots
SET state = $3, attempts = attempts + 1, last_epoch = $4, http_status = $5, error = $6,
    duration_ms = $7, finished_at = CASE WHEN $3 = 'pending' THEN NULL ELSE now() END
WHERE cron_job_id = $1 AND slot = to_timestamp($2 / 1000.0) AND state = 'pending'
