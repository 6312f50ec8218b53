-- Extends the visibility timeout of the messages consumer $3 still holds to $4 ms from now.
-- A message another consumer has reclaimed is left alone. $1 queue, $2 ids.
UPDATE stratus_queue_messages
SET locked_until = now() + $4::float8 * interval '1 millisecond'
WHERE queue = $1 AND id = ANY ($2::bigint[]) AND locked_by = $3 AND locked_until IS NOT NULL
