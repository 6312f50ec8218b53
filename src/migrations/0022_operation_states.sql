-- An operation as it is read. A reconcile pass's start writes no operation row, so the state is
-- derived here, in one place for every read: a stored `pending` is `running` once the job has
-- taken a lease (a ledger row with an attempt: a lease held, a retry due, or a lease a dead
-- worker left) while the resource is still at the operation's generation. A redriven job's
-- ledger row starts again at attempt 0: pending until its next lease. Terminal states, and the
-- `running` a failed attempt writes with its error, are stored.
CREATE VIEW stratus_operations_read AS
SELECT o.id, o.tenant, o.kind, o.resource_id, o.verb, o.action, o.generation, o.job_key,
       CASE
         WHEN o.state = 'pending'
           AND EXISTS (SELECT 1 FROM stratus_ledger l WHERE l.job_key = o.job_key AND l.attempt > 0)
           AND EXISTS (SELECT 1 FROM stratus_resources r WHERE r.id = o.resource_id AND r.generation = o.generation)
         THEN 'running'
         ELSE o.state
       END AS state,
       o.error, o.created_at, o.updated_at, o.finished_at
FROM stratus_operations AS o;
