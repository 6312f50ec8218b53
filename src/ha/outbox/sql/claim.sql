-- Claims up to $1 rows never dispatched and not claimed by a live claimer, for $2 ms. Other
-- relays skip rows locked by this statement and rows claimed by it afterwards.
UPDATE stratus_outbox
SET claimed_until = now() + $2::integer * interval '1 millisecond'
WHERE id IN (
  SELECT id FROM stratus_outbox
  WHERE dispatched_at IS NULL
    AND (claimed_until IS NULL OR claimed_until < now())
  ORDER BY id
  LIMIT $1
  FOR UPDATE SKIP LOCKED
)
RETURNING id, body
