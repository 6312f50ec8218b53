-- Takes up to $2 ready messages of queue $1 for consumer $3, visible to nobody else for $4 ms.
-- SKIP LOCKED lets concurrent receivers take disjoint rows without waiting on each other; the
-- MATERIALIZED CTE makes the row choice happen once (a subquery in IN may be re-evaluated).
WITH picked AS MATERIALIZED (
  SELECT id FROM stratus_queue_messages
  WHERE queue = $1 AND locked_until IS NULL AND available_at <= now()
  ORDER BY id
  LIMIT $2
  FOR UPDATE SKIP LOCKED
)
UPDATE stratus_queue_messages m
SET locked_until = now() + $4::float8 * interval '1 millisecond',
    locked_by = $3,
    deliveries = m.deliveries + 1
FROM picked
WHERE m.id = picked.id
RETURNING m.id, m.body, m.deliveries
