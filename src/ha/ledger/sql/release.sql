-- Gives back leases that were taken but never used (prefetched jobs of a worker that shuts
-- down) or handed back on a drain: the job is due again at once, and the lease does not count
-- as an attempt. Refused rows (stale leases) are missing from the result. Rows are locked in
-- job_key order first, as in every ledger batch (see heartbeat.sql).
WITH mine AS MATERIALIZED (
  SELECT l.job_key, r.token
  FROM stratus_ledger AS l
  JOIN unnest($1::text[], $2::bigint[]) AS r(job_key, token) ON l.job_key = r.job_key
  WHERE l.token = r.token
    AND l.state = 'running'
    AND l.lease_expires_at > now()
  ORDER BY l.job_key
  FOR UPDATE OF l
)
UPDATE stratus_ledger AS l
SET state = 'pending',
    retry_at = now(),
    lease_expires_at = NULL,
    attempt = l.attempt - 1,
    updated_at = now()
FROM mine AS m
WHERE l.job_key = m.job_key
  AND l.token = m.token
  AND l.state = 'running'
  AND l.lease_expires_at > now()
RETURNING l.job_key
