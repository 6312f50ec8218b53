-- Extends every live lease a worker holds in one statement; a lease missing from the
-- result was lost (expired, or taken over with a larger token). The rows are locked first in
-- job_key order (the Sort runs below the row locks), the order every ledger batch locks in,
-- so a heartbeat and another worker's exchange over the same keys never deadlock.
WITH mine AS MATERIALIZED (
  SELECT l.job_key, h.token, h.lease_ms
  FROM stratus_ledger AS l
  JOIN unnest($1::text[], $2::bigint[], $3::integer[]) AS h(job_key, token, lease_ms)
    ON l.job_key = h.job_key
  WHERE l.token = h.token
    AND l.state = 'running'
    AND l.lease_expires_at > now()
  ORDER BY l.job_key
  FOR UPDATE OF l
)
UPDATE stratus_ledger AS l
SET lease_expires_at = now() + m.lease_ms * interval '1 millisecond'
FROM mine AS m
WHERE l.job_key = m.job_key
  AND l.token = m.token
  AND l.state = 'running'
  AND l.lease_expires_at > now()
RETURNING l.job_key
