-- The operation of one accepted mutation, pending until its reconcile job runs.
INSERT INTO stratus_operations (id, tenant, kind, resource_id, verb, action, generation, job_key, state)
VALUES ($1, $2, $3, $4, $5, $6, $7, $8, 'pending')
RETURNING id, tenant, kind, resource_id, verb, action, generation, job_key, state, error, created_at, updated_at, finished_at
