-- One resource of a tenant and kind; another tenant's id finds nothing.
SELECT id, tenant, kind, name, labels, spec, status, generation, resource_version, created_at, updated_at, deletion_requested_at, owner_id
FROM stratus_resources
WHERE id = $1 AND tenant = $2 AND kind = $3
