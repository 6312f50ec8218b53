-- Removes messages for good. $1 queue, $2 ids.
DELETE FROM stratus_queue_messages WHERE queue = $1 AND id = ANY ($2::bigint[])
