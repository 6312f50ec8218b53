-- Records that claimed rows are on the queue now (the claim ends; nobody's add is pending).
UPDATE stratus_outbox
SET dispatched_at = now(), dispatch_count = dispatch_count + 1, claimed_until = NULL, dispatched_by = NULL
WHERE id = ANY($1::bigint[])
