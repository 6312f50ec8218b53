-- One page of a tenant's resources of one kind, by id after the cursor, filtered by labels
-- ($4 is a JSON object every returned row's labels must contain; $6 an owner, or NULL).
SELECT id, tenant, kind, name, labels, spec, status, generation, resource_version, created_at, updated_at, deletion_requested_at, owner_id
FROM stratus_resources
WHERE tenant = $1 AND kind = $2 AND ($3::text IS NULL OR id > $3) AND labels @> $4::jsonb
  AND ($6::text IS NULL OR owner_id = $6)
ORDER BY id
LIMIT $5
