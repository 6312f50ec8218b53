-- Fails the held delete of resource $1 at generation $2 (its dependent failed to delete for
-- good): the resource shows status $3, its pending delete operation fails with error $4.
-- Returns the operations changed (0 when the delete moved on meanwhile).
WITH res AS (
  UPDATE stratus_resources
  SET status = $3::jsonb, resource_version = nextval('stratus_resource_version_seq'), updated_at = now()
  WHERE id = $1 AND generation = $2 AND deletion_requested_at IS NOT NULL
  RETURNING id
), op AS (
  UPDATE stratus_operations
  SET state = 'failed', error = $4::jsonb, updated_at = now(), finished_at = now()
  WHERE resource_id = $1 AND generation = $2 AND verb = 'delete' AND state = 'pending'
    AND EXISTS (SELECT 1 FROM res)
  RETURNING id
)
SELECT (SELECT count(*) FROM op)::integer AS written
