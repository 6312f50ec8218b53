-- Adds messages in one statement and wakes blocked receivers (NOTIFY is sent at commit; equal
-- notifications of one transaction are folded into one). $1 queue, $2 bodies in order.
WITH added AS (
  INSERT INTO stratus_queue_messages (queue, body)
  SELECT $1, b FROM unnest($2::text[]) WITH ORDINALITY AS t (b, n) ORDER BY n
  RETURNING id
)
SELECT id, pg_notify('stratus_queue', $1) AS notified FROM added ORDER BY id
