-- The replicas of this deployment: each process registers at start and refreshes
-- last_seen_at while it runs, so operators (and the API) can tell which nodes are alive.
CREATE TABLE stratus_nodes (
  node_id       text PRIMARY KEY,
  role          text NOT NULL CHECK (role IN ('api', 'worker', 'all')),
  version       text NOT NULL,
  started_at    timestamptz NOT NULL DEFAULT now(),
  last_seen_at  timestamptz NOT NULL DEFAULT now(),
  stopped_at    timestamptz
);
