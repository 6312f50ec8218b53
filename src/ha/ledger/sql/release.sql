-- Gives back leases that were taken but never used (prefetched jobs of a worker that shuts
-- down): the job is due again at once, and the unused lease does not count as an attempt.
-- Refused rows (stale leases) are missing from the result.
UPDATE stratus_ledger AS l
SET state = 'pending',
    retry_at = now(),
    lease_expires_at = NULL,
    attempt = l.attempt - 1,
    updated_at = now()
FROM unnest($1::text[], $2::bigint[]) AS r(job_key, token)
WHERE l.job_key = r.job_key
  AND l.token = r.token
  AND l.state = 'running'
  AND l.lease_expires_at > now()
RETURNING l.job_key
