-- Takes over up to $2 messages of queue $1 whose visibility timeout has passed, for consumer $3
-- with a new timeout of $4 ms, counting one more delivery. A message past the delivery limit is
-- returned too: the consumer records its fate in the ledger before it dead-letters it, so the
-- queue never buries a job behind the ledger's back.
WITH picked AS MATERIALIZED (
  SELECT id FROM stratus_queue_messages
  WHERE queue = $1 AND locked_until < now()
  ORDER BY locked_until
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
