-- Writes jobs into the outbox in the caller's transaction and wakes the relays; NOTIFY is
-- delivered at COMMIT, and never for a transaction that rolls back. A key already present is
-- skipped, so a producer retrying its transaction does not create a second job.
WITH inserted AS (
  INSERT INTO stratus_outbox (job_key, body)
  SELECT j.job_key, j.body FROM unnest($1::text[], $2::text[]) AS j(job_key, body)
  ON CONFLICT (job_key) DO NOTHING
  RETURNING id
)
SELECT count(*)::integer AS inserted, pg_notify('stratus_outbox', '') IS NULL AS notified
FROM inserted
