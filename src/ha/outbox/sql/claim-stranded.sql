-- Claims (for $3 ms) dispatched rows whose job is stranded: not finished, not under a live
-- lease, not waiting for a scheduled retry, and quiet for longer than the grace $1 (ms). The
-- grace doubles with every re-dispatch of a row (up to 64 times) so that a long backlog is not
-- flooded with copies. At most $2 rows.
UPDATE stratus_outbox AS o
SET claimed_until = now() + $3::integer * interval '1 millisecond'
WHERE o.id IN (
  SELECT o2.id
  FROM stratus_outbox AS o2
  LEFT JOIN stratus_ledger AS l ON l.job_key = o2.job_key
  WHERE o2.done_at IS NULL
    AND o2.dispatched_at IS NOT NULL
    AND (o2.claimed_until IS NULL OR o2.claimed_until < now())
    AND o2.dispatched_at < now() - $1::integer * interval '1 millisecond'
        * power(2, least(greatest(o2.dispatch_count - 1, 0), 6))
    AND (
      l.job_key IS NULL
      OR (l.state = 'running' AND l.lease_expires_at < now() - $1::integer * interval '1 millisecond')
      OR (l.state = 'pending' AND l.retry_at < now() - $1::integer * interval '1 millisecond')
    )
  ORDER BY o2.dispatched_at
  LIMIT $2
  FOR UPDATE OF o2 SKIP LOCKED
)
RETURNING o.id, o.body
