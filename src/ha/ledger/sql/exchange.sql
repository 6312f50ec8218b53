-- The worker's hot path in ONE statement (one commit, one WAL flush): completes a batch of jobs
-- ($1 keys, $2 tokens), each only under its own live lease, and takes leases for another batch
-- of distinct keys ($3 keys, $5 lease ms, for owner $4) that are new, due for a retry, or held
-- under an expired lease. The two sets never share a key (the ledger checks), so no row is
-- changed twice.
--
-- Both sets go through ONE upsert in job_key order, so every statement locks its rows (and
-- waits on another's uncommitted new keys) in the same order: two batches over the same keys
-- can never wait on each other in a cycle. With completions as a separate UPDATE and
-- acquisitions in request order, two batches in opposite orders deadlocked 4 rounds in 10.
-- A completion row carries state 'completed' and its token; its DO UPDATE applies only under
-- that live lease. It is sent only for a key that has a row (a lease was taken), so it never
-- inserts one. In a race for one key, the WHERE of DO UPDATE is re-checked on the newest row
-- version, so exactly one acquirer gets the row; the others get no row back.
WITH wanted AS (
  SELECT c.job_key, true AS completing, c.token, 0 AS lease_ms
  FROM unnest($1::text[], $2::bigint[]) AS c(job_key, token)
  WHERE EXISTS (SELECT 1 FROM stratus_ledger x WHERE x.job_key = c.job_key)
  UNION ALL
  SELECT r.job_key, false, NULL::bigint, r.lease_ms
  FROM unnest($3::text[], $5::integer[]) AS r(job_key, lease_ms)
)
INSERT INTO stratus_ledger AS l (job_key, state, owner, token, attempt, lease_expires_at)
SELECT w.job_key,
       CASE WHEN w.completing THEN 'completed' ELSE 'running' END,
       $4::text,
       CASE WHEN w.completing THEN w.token ELSE nextval('stratus_ledger_token_seq') END,
       1,
       now() + w.lease_ms * interval '1 millisecond'
FROM wanted AS w
ORDER BY w.job_key
ON CONFLICT (job_key) DO UPDATE
SET state = EXCLUDED.state,
    owner = CASE WHEN EXCLUDED.state = 'completed' THEN l.owner ELSE EXCLUDED.owner END,
    token = CASE WHEN EXCLUDED.state = 'completed' THEN l.token ELSE EXCLUDED.token END,
    attempt = CASE WHEN EXCLUDED.state = 'completed' THEN l.attempt ELSE l.attempt + 1 END,
    lease_expires_at = CASE WHEN EXCLUDED.state = 'completed' THEN NULL ELSE EXCLUDED.lease_expires_at END,
    finished_at = CASE WHEN EXCLUDED.state = 'completed' THEN now() ELSE l.finished_at END,
    retry_at = NULL,
    updated_at = now()
WHERE CASE
        WHEN EXCLUDED.state = 'completed' THEN
          l.token = EXCLUDED.token AND l.state = 'running' AND l.lease_expires_at > now()
        ELSE (l.state = 'running' AND l.lease_expires_at <= now())
          OR (l.state = 'pending' AND l.retry_at <= now())
      END
RETURNING l.job_key, l.state = 'completed' AS completed, l.token, l.attempt, l.lease_expires_at
