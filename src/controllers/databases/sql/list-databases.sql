-- The managed databases that exist in the backend (their reconciler recorded a backend id),
-- deleting ones excepted: what the replica monitor and the failover controller look after.
SELECT id, generation, resource_version, status
FROM stratus_resources
WHERE kind = 'databases' AND deletion_requested_at IS NULL AND status -> 'outputs' ->> 'backendId' IS NOT NULL
ORDER BY id
LIMIT $1
