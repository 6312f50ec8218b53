-- The resources of the tenant that reference $2, whole and locked for update: what a cascading
-- delete marks deleted before the resource they reference.
SELECT id, tenant, kind, name, labels, spec, status, generation, resource_version, created_at, updated_at, deletion_requested_at, owner_id
FROM stratus_resources
WHERE tenant = $1 AND ref_ids @> ARRAY[$2::text]
ORDER BY id
FOR UPDATE
