-- Every resource of one kind in a tenant but $3 (the one being changed), deleting ones
-- included: what an admission check compares a new spec with.
SELECT id, tenant, kind, name, labels, spec, status, generation, resource_version, created_at, updated_at, deletion_requested_at, owner_id
FROM stratus_resources
WHERE tenant = $1 AND kind = $2 AND ($3::text IS NULL OR id <> $3)
ORDER BY id
