-- The resources with the ids $1 of the kinds $2, of every tenant, by id: a scoped pass's reads.
SELECT id, tenant, kind, name, labels, spec, status, generation, resource_version, created_at, updated_at, deletion_requested_at, owner_id
FROM stratus_resources
WHERE id = ANY ($1::text[]) AND kind = ANY ($2::text[])
ORDER BY id
