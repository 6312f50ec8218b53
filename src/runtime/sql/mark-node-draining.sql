-- $1 node id: the node began a graceful shutdown (readiness off, in-flight work finishing).
UPDATE stratus_nodes SET draining_since = coalesce(draining_since, now()) WHERE node_id = $1
