-- The operations of the jobs $1, with their tenant, their states as migration 0022's view
-- derives them.
SELECT id, tenant, kind, resource_id, verb, generation, job_key, state, error, created_at, updated_at, finished_at
FROM stratus_operations_read
WHERE job_key = ANY($1::text[])
