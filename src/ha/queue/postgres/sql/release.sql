-- Gives a message consumer $3 holds back, ready again in $4 ms: the row itself changes state,
-- so there is never a second copy. With $5, the delivery is taken back (the consumer never
-- worked on the message). A message due at once wakes blocked receivers, so another consumer
-- takes it without waiting for its poll. $1 queue, $2 id.
WITH released AS (
  UPDATE stratus_queue_messages
  SET locked_until = NULL,
      locked_by = NULL,
      available_at = now() + $4::float8 * interval '1 millisecond',
      deliveries = CASE WHEN $5::boolean THEN greatest(deliveries - 1, 0) ELSE deliveries END
  WHERE queue = $1 AND id = $2 AND locked_by = $3 AND locked_until IS NOT NULL
  RETURNING id
)
SELECT pg_notify('stratus_queue', $1) FROM released WHERE $4::float8 <= 0
