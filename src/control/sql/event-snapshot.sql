-- The oldest transaction still running (xmin) and the next transaction id to be assigned
-- (xmax), as of now: once xmin reaches an earlier xmax, every writer before it has finished.
SELECT pg_snapshot_xmin(s)::text AS xmin, pg_snapshot_xmax(s)::text AS xmax FROM pg_current_snapshot() AS s
