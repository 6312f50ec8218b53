-- The start of many reconcile passes in ONE statement, as begin-pass.sql for each resource id
-- of $1: every resource asked for (target = true, with its ref_ids) and the resources they
-- reference that were not asked for (target = false). It writes nothing (see begin-pass.sql).
-- A resource missing from the rows is gone.
WITH target AS (
  SELECT id, tenant, kind, name, labels, spec, status, generation, resource_version, created_at, updated_at, deletion_requested_at, owner_id, ref_ids
  FROM stratus_resources
  WHERE id = ANY ($1::text[])
)
SELECT true AS target, t.ref_ids, t.id, t.tenant, t.kind, t.name, t.labels, t.spec, t.status, t.generation, t.resource_version, t.created_at, t.updated_at, t.deletion_requested_at, t.owner_id
FROM target AS t
UNION ALL
SELECT false, NULL, r.id, r.tenant, r.kind, r.name, r.labels, r.spec, r.status, r.generation, r.resource_version, r.created_at, r.updated_at, r.deletion_requested_at, r.owner_id
FROM stratus_resources AS r
WHERE r.id IN (SELECT unnest(ref_ids) FROM target)
  AND r.id <> ALL ($1::text[])
