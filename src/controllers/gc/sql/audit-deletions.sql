-- Every deletion, with whether its resource exists now, for the audit.
SELECT d.backend, d.backend_id, d.resource_id,
       (extract(epoch FROM d.first_seen_at) * 1000)::double precision AS first_seen_ms,
       (extract(epoch FROM d.deleted_at) * 1000)::double precision AS deleted_ms,
       EXISTS (SELECT 1 FROM stratus_resources r WHERE r.id = d.resource_id) AS resource_exists
FROM stratus_gc_deletions d
ORDER BY d.deleted_at
