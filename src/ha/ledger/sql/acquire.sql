-- Takes a lease on each job key of the batch that is new, waiting for a due retry, or held
-- under an expired lease. The WHERE of DO UPDATE is re-checked on the newest row version
-- when two workers race, so exactly one of them gets the row; the other gets no row back.
INSERT INTO stratus_ledger AS l (job_key, state, owner, token, attempt, lease_expires_at)
SELECT r.job_key, 'running', $2::text, nextval('stratus_ledger_token_seq'), 1,
       now() + r.lease_ms * interval '1 millisecond'
FROM unnest($1::text[], $3::integer[]) AS r(job_key, lease_ms)
ON CONFLICT (job_key) DO UPDATE
SET state = 'running',
    owner = EXCLUDED.owner,
    token = EXCLUDED.token,
    attempt = l.attempt + 1,
    lease_expires_at = EXCLUDED.lease_expires_at,
    retry_at = NULL,
    updated_at = now()
WHERE (l.state = 'running' AND l.lease_expires_at <= now())
   OR (l.state = 'pending' AND l.retry_at <= now())
RETURNING l.job_key, l.token, l.attempt, l.lease_expires_at
