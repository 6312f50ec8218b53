-- $1 node id, $2 role, $3 version: (re)registers a node at start.
INSERT INTO stratus_nodes (node_id, role, version) VALUES ($1, $2, $3)
ON CONFLICT (node_id) DO UPDATE
  SET role = EXCLUDED.role, version = EXCLUDED.version,
      started_at = now(), last_seen_at = now(), stopped_at = NULL
