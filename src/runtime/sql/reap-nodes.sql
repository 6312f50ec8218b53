-- $1 staleness in ms: nodes silent for longer are marked stopped at their last sign of life.
UPDATE stratus_nodes SET stopped_at = last_seen_at
WHERE stopped_at IS NULL AND last_seen_at < now() - $1 * interval '1 millisecond'
