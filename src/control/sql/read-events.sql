-- Every tenant's events after id $1 and up to the horizon $2: what one process's poller fans out.
SELECT id, time, tenant, kind, resource_id, name, type, generation, resource_version, phase, reason, message, resource
FROM stratus_events
WHERE id > $1 AND id <= $2
ORDER BY id
LIMIT $3
