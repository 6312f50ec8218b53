-- Removes events older than $1 milliseconds and raises the pruned mark to the highest id removed.
WITH gone AS (
  DELETE FROM stratus_events WHERE time < now() - $1::bigint * interval '1 millisecond' RETURNING id
)
UPDATE stratus_events_pruned
SET up_to = greatest(up_to, coalesce((SELECT max(id) FROM gone), 0))
RETURNING (SELECT count(*) FROM gone)::integer AS removed, up_to
