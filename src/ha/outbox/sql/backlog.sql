-- Jobs committed to the outbox and not yet put on the queue, and the age of the oldest (ms,
-- database time): what the relay still has to move, on either queue backend.
SELECT count(*)::integer AS waiting,
       coalesce(floor(extract(epoch FROM now() - min(created_at)) * 1000), 0)::float8 AS oldest_ms
FROM stratus_outbox
WHERE dispatched_at IS NULL
