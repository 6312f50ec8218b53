-- The resource a PATCH or DELETE changes, locked for the rest of its transaction so that two
-- concurrent changes apply one after the other.
SELECT id, tenant, kind, name, labels, spec, status, generation, resource_version, created_at, updated_at, deletion_requested_at, owner_id
FROM stratus_resources
WHERE id = $1 AND tenant = $2 AND kind = $3
FOR UPDATE
