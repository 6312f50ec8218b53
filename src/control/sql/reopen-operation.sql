-- Redrive of reconcile job $1: its failed operation is pending again, its last error kept (as
-- while retrying), provided resource $2 still exists; the job's next pass decides what follows
-- (succeeded, failed again, or superseded by a newer generation). A deleted resource's operation
-- stays failed: the pass would find nothing to do and never end it. Returns the operation.
UPDATE stratus_operations
SET state = 'pending', finished_at = NULL, updated_at = now()
WHERE job_key = $1
  AND state = 'failed'
  AND EXISTS (SELECT 1 FROM stratus_resources r WHERE r.id = $2)
RETURNING id, kind, resource_id, verb, generation, state, error, created_at, updated_at, finished_at
