-- The queue's figures in one snapshot, by database time. A delayed message counts as delayed,
-- not in length (as in the Redis adapter, where it waits outside the stream). $1 queue.
SELECT
  count(*) FILTER (WHERE locked_until IS NOT NULL OR available_at <= now())::int AS length,
  count(*) FILTER (WHERE locked_until IS NOT NULL)::int AS pending,
  count(*) FILTER (WHERE locked_until IS NULL AND available_at <= now())::int AS lag,
  count(*) FILTER (WHERE locked_until IS NULL AND available_at > now())::int AS delayed,
  coalesce(
    floor(extract(epoch FROM now() - min(enqueued_at) FILTER (WHERE locked_until IS NOT NULL)) * 1000),
    0
  )::float8 AS oldest_pending_ms,
  (SELECT count(*) FROM stratus_queue_dead_letters d WHERE d.queue = $1)::int AS dead_letters
FROM stratus_queue_messages
WHERE queue = $1
