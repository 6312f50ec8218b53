-- A tenant's newest $4 events up to the horizon $2, of kind $3 and resource $5 when given, newest first.
SELECT id, time, tenant, kind, resource_id, name, type, generation, resource_version, phase, reason, message, resource
FROM stratus_events
WHERE tenant = $1 AND id <= $2
  AND ($3::text IS NULL OR kind = $3) AND ($5::text IS NULL OR resource_id = $5)
ORDER BY id DESC
LIMIT $4
