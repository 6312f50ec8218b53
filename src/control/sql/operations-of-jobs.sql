-- The operations of the jobs $1, with their tenant, their states read as get-operation.sql
-- reads them.
SELECT o.id, o.tenant, o.kind, o.resource_id, o.verb, o.generation, o.job_key,
       CASE
         WHEN o.state = 'pending'
           AND EXISTS (SELECT 1 FROM stratus_ledger l WHERE l.job_key = o.job_key AND l.attempt > 0)
           AND EXISTS (SELECT 1 FROM stratus_resources r WHERE r.id = o.resource_id AND r.generation = o.generation)
         THEN 'running'
         ELSE o.state
       END AS state,
       o.error, o.created_at, o.updated_at, o.finished_at
FROM stratus_operations AS o
WHERE o.job_key = ANY($1::text[])
