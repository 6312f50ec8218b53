-- Dead letters of queue $1, oldest first, at most $2.
SELECT id, message_id, body, reason, deliveries
FROM stratus_queue_dead_letters
WHERE queue = $1
ORDER BY id
LIMIT $2
