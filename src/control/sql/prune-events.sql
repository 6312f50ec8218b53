-- Removes events older than $1 milliseconds, the oldest first and at most $2 of them (NULL: all),
-- before the reference time $3 in ms (NULL: the database's clock; never ahead of it), and raises
-- the pruned mark to the highest id removed.
WITH gone AS (
  DELETE FROM stratus_events
  WHERE id IN (
    SELECT id FROM stratus_events
    WHERE time < least(coalesce(to_timestamp($3::double precision / 1000), now()), now())
                 - $1::bigint * interval '1 millisecond'
    ORDER BY time
    LIMIT $2::integer
  )
  RETURNING id
)
UPDATE stratus_events_pruned
SET up_to = greatest(up_to, coalesce((SELECT max(id) FROM gone), 0))
RETURNING (SELECT count(*) FROM gone)::integer AS removed, up_to
