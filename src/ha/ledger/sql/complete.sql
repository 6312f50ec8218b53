-- Marks a batch of jobs completed, each only under its own live lease; refused rows are
-- missing from the result.
UPDATE stratus_ledger AS l
SET state = 'completed', lease_expires_at = NULL, finished_at = now(), updated_at = now()
FROM unnest($1::text[], $2::bigint[]) AS c(job_key, token)
WHERE l.job_key = c.job_key
  AND l.token = c.token
  AND l.state = 'running'
  AND l.lease_expires_at > now()
RETURNING l.job_key
