-- A resource referenced by one whose deletion just finished, locked for update when it is being
-- deleted itself: two dependents finishing at once take turns here, so the second sees the
-- first gone and the last of them starts the held delete's job.
SELECT id, tenant, kind, name, labels, spec, status, generation, resource_version, created_at, updated_at, deletion_requested_at, owner_id
FROM stratus_resources
WHERE id = $1 AND deletion_requested_at IS NOT NULL
FOR UPDATE
