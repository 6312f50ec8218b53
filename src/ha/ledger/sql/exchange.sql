-- The worker's hot path in ONE statement (one commit, one WAL flush): completes a batch of jobs
-- ($1 keys, $2 tokens), each only under its own live lease, and takes leases for another batch
-- of distinct keys ($3 keys, $5 lease ms, for owner $4) that are new, due for a retry, or held
-- under an expired lease. The two sets never share a key (the ledger checks), so no row is
-- changed twice. In a race for one key, the WHERE of DO UPDATE is re-checked on the newest row
-- version, so exactly one acquirer gets the row; the others get no row back.
WITH completed AS (
  UPDATE stratus_ledger AS l
  SET state = 'completed', lease_expires_at = NULL, finished_at = now(), updated_at = now()
  FROM unnest($1::text[], $2::bigint[]) AS c(job_key, token)
  WHERE l.job_key = c.job_key
    AND l.token = c.token
    AND l.state = 'running'
    AND l.lease_expires_at > now()
  RETURNING l.job_key
), acquired AS (
  INSERT INTO stratus_ledger AS l (job_key, state, owner, token, attempt, lease_expires_at)
  SELECT r.job_key, 'running', $4::text, nextval('stratus_ledger_token_seq'), 1,
         now() + r.lease_ms * interval '1 millisecond'
  FROM unnest($3::text[], $5::integer[]) AS r(job_key, lease_ms)
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
)
SELECT true AS completed, job_key, NULL::bigint AS token, NULL::integer AS attempt,
       NULL::timestamptz AS lease_expires_at
FROM completed
UNION ALL
SELECT false, job_key, token, attempt, lease_expires_at
FROM acquired
