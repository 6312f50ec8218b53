-- $1 node id: a clean shutdown.
UPDATE stratus_nodes SET stopped_at = now() WHERE node_id = $1
