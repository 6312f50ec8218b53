-- The runs still going (started in the backend, not finished, not being deleted), of every
-- tenant: what the pipelines controller follows.
SELECT id, tenant, kind, name, labels, spec, status, generation, resource_version, created_at, updated_at, deletion_requested_at, owner_id
FROM stratus_resources
WHERE kind = 'pipeline-runs'
  AND deletion_requested_at IS NULL
  AND status -> 'outputs' ->> 'backendId' IS NOT NULL
  AND coalesce(status -> 'outputs' ->> 'state', '') NOT IN ('succeeded', 'failed', 'canceled')
ORDER BY id
