-- One operation of a tenant; another tenant's id finds nothing. Its state as migration 0022's
-- view derives it.
SELECT id, tenant, kind, resource_id, verb, action, generation, job_key, state, error, created_at, updated_at, finished_at
FROM stratus_operations_read
WHERE id = $1 AND tenant = $2
