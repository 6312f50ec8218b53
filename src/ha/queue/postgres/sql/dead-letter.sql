-- Moves a message to the dead letters with reason $3, in one statement. $1 queue, $2 id.
WITH gone AS (
  DELETE FROM stratus_queue_messages
  WHERE queue = $1 AND id = $2
  RETURNING id, queue, body, deliveries, enqueued_at
)
INSERT INTO stratus_queue_dead_letters (queue, message_id, body, reason, deliveries, enqueued_at)
SELECT queue, id, body, $3, deliveries, enqueued_at FROM gone
