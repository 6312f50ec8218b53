-- The healing controller's memory of every instance it acted on.
SELECT resource_id, restarts, last_action,
       (extract(epoch FROM window_start) * 1000)::double precision AS window_ms,
       (extract(epoch FROM next_at) * 1000)::double precision AS next_ms
FROM stratus_healing
