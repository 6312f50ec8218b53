-- Marks rows whose job the ledger shows finished (completed, or failed for good), at most $1
-- of them, so that the sweeper's scan stays on unfinished rows.
UPDATE stratus_outbox AS o
SET done_at = now()
WHERE o.id IN (
  SELECT o2.id
  FROM stratus_outbox AS o2
  JOIN stratus_ledger AS l ON l.job_key = o2.job_key
  WHERE o2.done_at IS NULL
    AND o2.dispatched_at IS NOT NULL
    AND l.state IN ('completed', 'failed')
  LIMIT $1
)
