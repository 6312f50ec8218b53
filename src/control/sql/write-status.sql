-- The reconciler's one status write of a pass: the resource's status, and its operation's state,
-- only while the resource is still at generation $2 and lease $4 of job $3 is live. A newer
-- generation or a lost lease writes nothing (written = 0). With $8 the row's outputs at the write
-- are kept (a composite kind's, its controller's report), not those of $5.
WITH lease AS (
  SELECT 1 FROM stratus_ledger l
  WHERE l.job_key = $3 AND l.token = $4 AND l.state = 'running' AND l.lease_expires_at > now()
), res AS (
  UPDATE stratus_resources
  SET status = CASE WHEN $8::boolean
                THEN jsonb_set($5::jsonb, '{outputs}', coalesce(status -> 'outputs', '{}'::jsonb))
                ELSE $5::jsonb END,
      resource_version = nextval('stratus_resource_version_seq'), updated_at = now()
  WHERE id = $1 AND generation = $2 AND EXISTS (SELECT 1 FROM lease)
  RETURNING id
), op AS (
  UPDATE stratus_operations
  SET state = $6, error = $7::jsonb, updated_at = now(),
      finished_at = CASE WHEN $6 IN ('succeeded', 'failed') THEN now() END
  WHERE job_key = $3 AND state IN ('pending', 'running') AND EXISTS (SELECT 1 FROM res)
  RETURNING id
)
SELECT (SELECT count(*) FROM res)::integer AS written
