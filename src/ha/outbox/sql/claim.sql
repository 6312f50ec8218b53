-- Claims up to $1 rows never dispatched and marks them dispatched in the same statement: the
-- relay puts them on the queue next, and a refused add hands them back (undispatch.sql). Other
-- relays skip rows locked by this statement, and the rows leave the undispatched index with it.
-- A relay that dies before its add leaves rows marked dispatched that the queue never got: the
-- sweeper sends them again once no session of the relay's name is left (claim-orphaned.sql),
-- or else once their grace has passed (no ledger row), so none is lost. A row a sweeper still
-- holds a claim on is skipped.
UPDATE stratus_outbox
SET dispatched_at = now(), dispatch_count = dispatch_count + 1, claimed_until = NULL,
    dispatched_by = current_setting('application_name')
WHERE id IN (
  SELECT id FROM stratus_outbox
  WHERE dispatched_at IS NULL
    AND (claimed_until IS NULL OR claimed_until < now())
  ORDER BY id
  LIMIT $1
  FOR UPDATE SKIP LOCKED
)
RETURNING id, body
