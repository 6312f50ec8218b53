-- Removes finished jobs older than the retention, from a window of the outbox: the $4 rows after
-- id $3, in id order (the oldest first). A job goes when its outbox row is done and its ledger
-- row completed, both before the horizon (the reference time $1 in ms, never ahead of the
-- database's clock, less $2 ms), and no operation of it is still pending or running. Its outbox
-- row, its ledger row and its operation go together; the operation stays when it is the newest
-- of a resource that still exists (a repeated delete answers with it). Failed jobs stay: they
-- are what an operator redrives. Returns the window's last id, its size, whether it reached
-- rows younger than the horizon (the walk starts over), and what went.
WITH horizon AS (
  SELECT least(to_timestamp($1::double precision / 1000), now()) - $2::bigint * interval '1 millisecond' AS at
),
walk AS (
  SELECT o.id, o.job_key, o.created_at, o.done_at
  FROM stratus_outbox AS o
  WHERE o.id > $3::bigint
  ORDER BY o.id
  LIMIT $4::integer
),
doomed AS (
  SELECT w.id, w.job_key
  FROM walk AS w
  CROSS JOIN horizon AS h
  JOIN stratus_ledger AS l ON l.job_key = w.job_key
  WHERE w.done_at < h.at
    AND l.state = 'completed'
    AND l.finished_at < h.at
    AND NOT EXISTS (
      SELECT 1 FROM stratus_operations AS op
      WHERE op.job_key = w.job_key AND op.state IN ('pending', 'running')
    )
),
operations AS (
  DELETE FROM stratus_operations AS op
  USING doomed AS d
  WHERE op.job_key = d.job_key
    AND (
      NOT EXISTS (SELECT 1 FROM stratus_resources AS r WHERE r.id = op.resource_id)
      OR EXISTS (
        SELECT 1 FROM stratus_operations AS n
        WHERE n.resource_id = op.resource_id AND n.generation > op.generation
      )
    )
  RETURNING 1
),
ledger AS (
  DELETE FROM stratus_ledger AS l
  USING doomed AS d
  WHERE l.job_key = d.job_key AND l.state = 'completed'
  RETURNING 1
),
outbox AS (
  DELETE FROM stratus_outbox AS o
  USING doomed AS d
  WHERE o.id = d.id
  RETURNING 1
)
SELECT (SELECT max(id) FROM walk) AS last_id,
       (SELECT count(*) FROM walk)::integer AS seen,
       (SELECT coalesce(bool_or(w.created_at >= h.at), false) FROM walk AS w CROSS JOIN horizon AS h) AS reached_recent,
       (SELECT count(*) FROM outbox)::integer AS jobs,
       (SELECT count(*) FROM ledger)::integer AS ledger,
       (SELECT count(*) FROM operations)::integer AS operations
