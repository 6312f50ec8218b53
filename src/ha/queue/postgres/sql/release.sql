-- Gives a message consumer $3 holds back, ready again in $4 ms: the row itself changes state,
-- so there is never a second copy. $1 queue, $2 id.
UPDATE stratus_queue_messages
SET locked_until = NULL,
    locked_by = NULL,
    available_at = now() + $4::float8 * interval '1 millisecond'
WHERE queue = $1 AND id = $2 AND locked_by = $3 AND locked_until IS NOT NULL
