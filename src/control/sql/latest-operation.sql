-- The newest operation of a resource (a repeated delete request answers with it), its state as
-- migration 0022's view derives it.
SELECT id, tenant, kind, resource_id, verb, action, generation, job_key, state, error, created_at, updated_at, finished_at
FROM stratus_operations_read
WHERE resource_id = $1
ORDER BY generation DESC
LIMIT 1
