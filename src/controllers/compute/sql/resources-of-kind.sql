-- Every resource of kind $1, of every tenant, by id: what a compute controller's pass reads.
SELECT id, tenant, kind, name, labels, spec, status, generation, resource_version, created_at, updated_at, deletion_requested_at, owner_id
FROM stratus_resources
WHERE kind = $1
ORDER BY id
