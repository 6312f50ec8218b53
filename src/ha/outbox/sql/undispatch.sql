-- Hands back rows the relay claimed (claim.sql marks them dispatched) and the queue refused:
-- undispatched again, their dispatch not counted, so that the next round takes them at once.
UPDATE stratus_outbox
SET dispatched_at = NULL, dispatch_count = greatest(dispatch_count - 1, 0), dispatched_by = NULL
WHERE id = ANY($1::bigint[])
