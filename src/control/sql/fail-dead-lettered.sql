-- A reconcile job the worker gave up on without its handler saying why (it hung past its
-- timeout and grace, or its worker died during the last attempt): its operation fails, and the
-- resource shows status $4 if it is still at the job's generation. No lease to check: the job
-- is finished for good. Returns the rows of the resource changed.
WITH op AS (
  UPDATE stratus_operations
  SET state = 'failed', error = $3::jsonb, updated_at = now(), finished_at = now()
  WHERE job_key = $1 AND state IN ('pending', 'running')
  RETURNING resource_id, generation
)
UPDATE stratus_resources r
SET status = $4::jsonb, resource_version = nextval('stratus_resource_version_seq'), updated_at = now()
FROM op
WHERE r.id = op.resource_id AND r.generation = op.generation AND r.id = $2
