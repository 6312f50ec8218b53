-- Drops a resource whose deletion the backend confirmed, and succeeds its delete operation, only
-- while it is still at generation $2 with deletion requested and lease $4 of job $3 is live.
-- The operations of earlier generations still pending or running (a create the delete
-- overtook) end superseded with it: nothing is left waiting on a resource that is gone.
WITH lease AS (
  SELECT 1 FROM stratus_ledger l
  WHERE l.job_key = $3 AND l.token = $4 AND l.state = 'running' AND l.lease_expires_at > now()
), res AS (
  DELETE FROM stratus_resources
  WHERE id = $1 AND generation = $2 AND deletion_requested_at IS NOT NULL AND EXISTS (SELECT 1 FROM lease)
  RETURNING id
), op AS (
  UPDATE stratus_operations
  SET state = 'succeeded', error = NULL, updated_at = now(), finished_at = now()
  WHERE job_key = $3 AND state IN ('pending', 'running') AND EXISTS (SELECT 1 FROM res)
  RETURNING id
), overtaken AS (
  UPDATE stratus_operations
  SET state = 'superseded', updated_at = now(), finished_at = now()
  WHERE resource_id = $1 AND generation < $2 AND state IN ('pending', 'running')
    AND EXISTS (SELECT 1 FROM res)
  RETURNING id
)
SELECT (SELECT count(*) FROM res)::integer AS written
