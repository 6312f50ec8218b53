-- Many reconcilers' status writes in ONE statement, as write-status.sql for each write ($1
-- resource ids, $2 generations, $3 job keys, $4 lease tokens, $5 statuses, $6 operation states,
-- $7 errors, $8 whether the row's outputs are kept): the status, and the operation's state, only while the resource is still at its
-- generation and the job's lease is live. The rows are locked in id order first, so two such
-- batches never wait on each other in a cycle. Returns the job keys whose write was made.
WITH w AS (
  SELECT w.id, w.generation, w.job_key, w.token, w.status, w.op_state, w.error, w.keep
  FROM unnest($1::text[], $2::bigint[], $3::text[], $4::bigint[], $5::text[], $6::text[], $7::text[], $8::boolean[])
    AS w(id, generation, job_key, token, status, op_state, error, keep)
), live AS MATERIALIZED (
  SELECT r.id, w.job_key, w.status, w.op_state, w.error, w.keep
  FROM stratus_resources AS r
  JOIN w ON r.id = w.id AND r.generation = w.generation
  WHERE EXISTS (
    SELECT 1 FROM stratus_ledger AS l
    WHERE l.job_key = w.job_key AND l.token = w.token AND l.state = 'running' AND l.lease_expires_at > now()
  )
  ORDER BY r.id
  FOR UPDATE OF r
), res AS (
  UPDATE stratus_resources AS r
  SET status = CASE WHEN live.keep
                THEN jsonb_set(live.status::jsonb, '{outputs}', coalesce(r.status -> 'outputs', '{}'::jsonb))
                ELSE live.status::jsonb END,
      resource_version = nextval('stratus_resource_version_seq'), updated_at = now()
  FROM live
  WHERE r.id = live.id
  RETURNING r.id
), op AS (
  UPDATE stratus_operations AS o
  SET state = live.op_state, error = live.error::jsonb, updated_at = now(),
      finished_at = CASE WHEN live.op_state IN ('succeeded', 'failed') THEN now() END
  FROM live
  WHERE o.job_key = live.job_key
    AND o.state IN ('pending', 'running')
    AND live.id IN (SELECT id FROM res)
  RETURNING o.id
)
SELECT live.job_key FROM live WHERE live.id IN (SELECT id FROM res)
