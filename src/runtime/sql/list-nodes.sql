-- Every node of the registry with how long it has been silent (ms, database time).
SELECT node_id, role, host, version, started_at, last_seen_at, stopped_at, draining_since,
       breakers, breakers_at,
       floor(extract(epoch FROM now() - last_seen_at) * 1000)::float8 AS silent_ms
FROM stratus_nodes
ORDER BY node_id
