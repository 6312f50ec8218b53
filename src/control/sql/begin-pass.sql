-- The start of a reconcile pass in ONE statement: resource $1 (target = true) and the resources
-- its spec references (its ref_ids, target = false). It writes nothing: the job's operation is
-- `running` while its job holds or held a lease (read from the ledger where an operation is
-- read: the view of migration 0022), so only a failed attempt and the end of the operation are written.
-- No row at all: the resource is gone.
WITH target AS (
  SELECT id, tenant, kind, name, labels, spec, status, generation, resource_version, created_at, updated_at, deletion_requested_at, owner_id, ref_ids
  FROM stratus_resources
  WHERE id = $1
)
SELECT true AS target, id, tenant, kind, name, labels, spec, status, generation, resource_version, created_at, updated_at, deletion_requested_at, owner_id
FROM target
UNION ALL
SELECT false, r.id, r.tenant, r.kind, r.name, r.labels, r.spec, r.status, r.generation, r.resource_version, r.created_at, r.updated_at, r.deletion_requested_at, r.owner_id
FROM stratus_resources AS r
WHERE r.id = ANY ((SELECT ref_ids FROM target)::text[])
