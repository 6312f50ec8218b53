-- $1 node id: the node is alive; $2 its breaker states (JSON array), or NULL to keep the last.
UPDATE stratus_nodes
SET last_seen_at = now(),
    breakers = coalesce($2::jsonb, breakers),
    breakers_at = CASE WHEN $2::jsonb IS NULL THEN breakers_at ELSE now() END
WHERE node_id = $1
