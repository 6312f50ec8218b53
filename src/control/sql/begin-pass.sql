-- The start of a reconcile pass in ONE statement: resource $1 (target = true) and the resources
-- its spec references (its ref_ids, target = false); and, when the resource is at generation
-- $4, the operation of job $2 moved to running while lease $3 of that job is live and the
-- operation is not terminal yet (as mark-operation.sql: a deposed worker changes nothing).
-- No row at all: the resource is gone.
WITH target AS (
  SELECT id, tenant, kind, name, labels, spec, status, generation, resource_version, created_at, updated_at, deletion_requested_at, owner_id, ref_ids
  FROM stratus_resources
  WHERE id = $1
), running AS (
  UPDATE stratus_operations
  SET state = 'running', error = NULL, updated_at = now(), finished_at = NULL
  WHERE job_key = $2
    AND state IN ('pending', 'running')
    AND EXISTS (SELECT 1 FROM target WHERE generation = $4)
    AND EXISTS (
      SELECT 1 FROM stratus_ledger l
      WHERE l.job_key = $2 AND l.token = $3 AND l.state = 'running' AND l.lease_expires_at > now()
    )
  RETURNING id
)
SELECT true AS target, id, tenant, kind, name, labels, spec, status, generation, resource_version, created_at, updated_at, deletion_requested_at, owner_id
FROM target
UNION ALL
SELECT false, r.id, r.tenant, r.kind, r.name, r.labels, r.spec, r.status, r.generation, r.resource_version, r.created_at, r.updated_at, r.deletion_requested_at, r.owner_id
FROM stratus_resources AS r
WHERE r.id = ANY ((SELECT ref_ids FROM target)::text[])
