-- Blocks until the session holds the advisory lock (class, key): Postgres grants waiters in
-- queue order the instant the holder unlocks or its session ends.
SELECT pg_advisory_lock($1::int4, $2::int4)
