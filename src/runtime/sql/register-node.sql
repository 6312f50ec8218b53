-- $1 node id, $2 role, $3 version, $4 host: (re)registers a node at start.
INSERT INTO stratus_nodes (node_id, role, version, host) VALUES ($1, $2, $3, $4)
ON CONFLICT (node_id) DO UPDATE
  SET role = EXCLUDED.role, version = EXCLUDED.version, host = EXCLUDED.host,
      started_at = now(), last_seen_at = now(), stopped_at = NULL, draining_since = NULL,
      breakers = '[]'::jsonb, breakers_at = NULL
