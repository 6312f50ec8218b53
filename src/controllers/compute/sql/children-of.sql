-- The children of the owners $1 (migration 0021), by id.
SELECT id, tenant, kind, name, labels, spec, status, generation, resource_version, created_at, updated_at, deletion_requested_at, owner_id
FROM stratus_resources
WHERE owner_id = ANY ($1::text[])
ORDER BY id
