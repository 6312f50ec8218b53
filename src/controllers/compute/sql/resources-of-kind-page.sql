-- A page of the resources of kind $1, of every tenant, after the id $2, by id, $3 at most: a
-- full pass that works in pages.
SELECT id, tenant, kind, name, labels, spec, status, generation, resource_version, created_at, updated_at, deletion_requested_at, owner_id
FROM stratus_resources
WHERE kind = $1 AND id > $2
ORDER BY id
LIMIT $3
