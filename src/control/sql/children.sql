-- The children of owner $1 (migration 0021), whole and locked for update, in id order: what the
-- owner's delete marks deleted first.
SELECT id, tenant, kind, name, labels, spec, status, generation, resource_version, created_at, updated_at, deletion_requested_at, owner_id
FROM stratus_resources
WHERE owner_id = $1
ORDER BY id
FOR UPDATE
