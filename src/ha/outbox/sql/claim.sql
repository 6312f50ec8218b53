-- Claims a batch of rows never dispatched. Run inside the relay's transaction: the rows stay
-- locked (other relays skip them) until the messages are in the queue and the row is marked.
UPDATE stratus_outbox
SET dispatched_at = now(), dispatch_count = dispatch_count + 1
WHERE id IN (
  SELECT id FROM stratus_outbox
  WHERE dispatched_at IS NULL
  ORDER BY id
  LIMIT $1
  FOR UPDATE SKIP LOCKED
)
RETURNING id, body
