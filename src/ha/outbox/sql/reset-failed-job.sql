-- Redrive, in the ledger: job $1, failed for good, becomes due at once with fresh attempts, and
-- the redrive is recorded with what the job had been through. Only a failed row changes: a
-- second redrive while the first is pending (or running, or done) matches nothing, also when
-- both run at once (the second waits for the first's row lock, then re-reads the row). The
-- fencing token is kept: the next lease takes a larger one from the sequence anyway.
WITH old AS (
  SELECT job_key, attempt, last_error FROM stratus_ledger
  WHERE job_key = $1 AND state = 'failed'
  FOR UPDATE
), reset AS (
  UPDATE stratus_ledger AS l
  SET state = 'pending', owner = NULL, attempt = 0, lease_expires_at = NULL, retry_at = now(),
      finished_at = NULL, reported_at = NULL, updated_at = now()
  FROM old
  WHERE l.job_key = old.job_key
  RETURNING l.job_key
)
INSERT INTO stratus_redrives (job_key, attempts, last_error)
SELECT old.job_key, old.attempt, old.last_error FROM old JOIN reset USING (job_key)
RETURNING id, redriven_at, attempts, last_error
