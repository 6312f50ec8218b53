-- Takes over up to $2 messages of queue $1 whose visibility timeout has passed, for consumer $3
-- with a new timeout of $4 ms; those already handed out $5 times go to the dead letters instead,
-- in the same statement. Returns the taken-over messages only.
WITH picked AS MATERIALIZED (
  SELECT id FROM stratus_queue_messages
  WHERE queue = $1 AND locked_until < now()
  ORDER BY locked_until
  LIMIT $2
  FOR UPDATE SKIP LOCKED
),
expired AS (
  DELETE FROM stratus_queue_messages m
  USING picked
  WHERE m.id = picked.id AND m.deliveries >= $5::int
  RETURNING m.id, m.queue, m.body, m.deliveries, m.enqueued_at
),
buried AS (
  INSERT INTO stratus_queue_dead_letters (queue, message_id, body, reason, deliveries, enqueued_at)
  SELECT queue, id, body,
         'delivered ' || deliveries || ' times without an ack (limit ' || $5::int || ')',
         deliveries, enqueued_at
  FROM expired
)
UPDATE stratus_queue_messages m
SET locked_until = now() + $4::float8 * interval '1 millisecond',
    locked_by = $3,
    deliveries = m.deliveries + 1
FROM picked
WHERE m.id = picked.id AND m.deliveries < $5::int
RETURNING m.id, m.body, m.deliveries
