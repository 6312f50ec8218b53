-- Gives back leases their live holder lost (not renewed in time: an overloaded host, a stalled
-- event loop) before anyone else took them over: the token is still the holder's own, so no
-- other lease was granted since. The job is due again at once and the lost lease does not count
-- as an attempt: only a worker that died on a job (it never comes back to say so) or a recorded
-- failure costs one. Rows already taken over are missing from the result. Rows are locked in
-- job_key order first, as in every ledger batch (see heartbeat.sql).
WITH mine AS MATERIALIZED (
  SELECT l.job_key, r.token
  FROM stratus_ledger AS l
  JOIN unnest($1::text[], $2::bigint[]) AS r(job_key, token) ON l.job_key = r.job_key
  WHERE l.token = r.token
    AND l.state = 'running'
  ORDER BY l.job_key
  FOR UPDATE OF l
)
UPDATE stratus_ledger AS l
SET state = 'pending',
    retry_at = now(),
    lease_expires_at = NULL,
    attempt = greatest(l.attempt - 1, 0),
    updated_at = now()
FROM mine AS m
WHERE l.job_key = m.job_key
  AND l.token = m.token
  AND l.state = 'running'
RETURNING l.job_key
