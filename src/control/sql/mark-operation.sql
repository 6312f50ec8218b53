-- Moves the operation of job $1 to state $3 (running, superseded or failed) with error $4, only
-- while lease $2 of that job is live and the operation is not terminal yet: a deposed worker
-- changes nothing. Returns the rows changed.
UPDATE stratus_operations
SET state = $3,
    error = $4::jsonb,
    updated_at = now(),
    finished_at = CASE WHEN $3 IN ('succeeded', 'failed', 'superseded') THEN now() END
WHERE job_key = $1
  AND state IN ('pending', 'running')
  AND EXISTS (
    SELECT 1 FROM stratus_ledger l
    WHERE l.job_key = $1 AND l.token = $2 AND l.state = 'running' AND l.lease_expires_at > now()
  )
