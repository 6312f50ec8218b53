-- Redrive, in the outbox: row $1 of the job gets body $2 (a fresh enqueue time) and is waiting
-- for the relay again, which is woken at COMMIT (never for a transaction that rolls back).
WITH row AS (
  UPDATE stratus_outbox
  SET body = $2, dispatched_at = NULL, claimed_until = NULL, done_at = NULL, dispatched_by = NULL
  WHERE id = $1
  RETURNING id
)
SELECT count(*)::integer AS updated, pg_notify('stratus_outbox', '') IS NULL AS notified FROM row
