-- Extends every live lease a worker holds in one statement; a lease missing from the
-- result was lost (expired, or taken over with a larger token).
UPDATE stratus_ledger AS l
SET lease_expires_at = now() + h.lease_ms * interval '1 millisecond'
FROM unnest($1::text[], $2::bigint[], $3::integer[]) AS h(job_key, token, lease_ms)
WHERE l.job_key = h.job_key
  AND l.token = h.token
  AND l.state = 'running'
  AND l.lease_expires_at > now()
RETURNING l.job_key
