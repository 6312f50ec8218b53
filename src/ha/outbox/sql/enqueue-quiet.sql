-- enqueue.sql without its NOTIFY: for a producer that wakes the relays itself once it has
-- committed (wake-relays.sql). A NOTIFY inside a transaction takes one database-wide lock at
-- COMMIT and holds it through the commit's WAL flush, so every notifying commit waits for the
-- one before it; a notification sent after commit, outside any write, holds it only briefly.
INSERT INTO stratus_outbox (job_key, body)
SELECT j.job_key, j.body FROM unnest($1::text[], $2::text[]) AS j(job_key, body)
ON CONFLICT (job_key) DO NOTHING
