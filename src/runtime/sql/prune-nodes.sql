-- $1 retention in ms: nodes stopped (cleanly, or marked by the reaper) longer ago are forgotten.
DELETE FROM stratus_nodes WHERE stopped_at < now() - $1 * interval '1 millisecond'
