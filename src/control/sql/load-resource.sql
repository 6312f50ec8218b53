-- The resource a reconcile job works on, by id alone (the job carries no tenant).
SELECT id, tenant, kind, name, labels, spec, status, generation, resource_version, created_at, updated_at, deletion_requested_at, owner_id
FROM stratus_resources
WHERE id = $1
