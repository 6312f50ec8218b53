-- A tenant's events after id $2 and up to the horizon $3, of kind $4 and resource $5 when given.
SELECT id, time, tenant, kind, resource_id, name, type, generation, resource_version, phase, reason, message, resource
FROM stratus_events
WHERE tenant = $1 AND id > $2 AND id <= $3
  AND ($4::text IS NULL OR kind = $4) AND ($5::text IS NULL OR resource_id = $5)
ORDER BY id
LIMIT $6
