-- The operations of the jobs $1, with their tenant.
SELECT id, tenant, kind, resource_id, verb, generation, job_key, state, error, created_at, updated_at, finished_at
FROM stratus_operations
WHERE job_key = ANY($1::text[])
