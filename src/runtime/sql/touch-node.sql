-- $1 node id: the node is alive.
UPDATE stratus_nodes SET last_seen_at = now() WHERE node_id = $1
