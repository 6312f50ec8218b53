-- Claims (for $3 ms) rows a relay marked dispatched (claim.sql) whose job never started (no
-- ledger row) and of whose relay no session is left in this database: a relay killed between
-- its claim and its queue add, whose rows the queue may never have got. Older than $1 ms (a
-- claim and an add take far less), at most $2 rows. A relay that did add them before it went
-- costs a duplicate message, which the ledger turns into a no-op. Never this session's own
-- name: a process's own relay is alive while it sweeps.
UPDATE stratus_outbox AS o
SET claimed_until = now() + $3::integer * interval '1 millisecond'
WHERE o.id IN (
  SELECT o2.id
  FROM stratus_outbox AS o2
  LEFT JOIN stratus_ledger AS l ON l.job_key = o2.job_key
  WHERE o2.done_at IS NULL
    AND o2.dispatched_at IS NOT NULL
    AND o2.dispatched_by IS NOT NULL
    AND o2.dispatched_by <> current_setting('application_name')
    AND (o2.claimed_until IS NULL OR o2.claimed_until < now())
    AND o2.dispatched_at < now() - $1::integer * interval '1 millisecond'
    AND l.job_key IS NULL
    AND o2.dispatched_by NOT IN (
      SELECT a.application_name FROM pg_stat_activity AS a
      WHERE a.datname = current_database() AND a.application_name IS NOT NULL
    )
  ORDER BY o2.dispatched_at
  LIMIT $2
  FOR UPDATE OF o2 SKIP LOCKED
)
RETURNING o.id, o.body
