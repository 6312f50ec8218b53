-- A new resource at generation 1. A name already taken in the tenant and kind inserts nothing
-- (the caller answers 409), also when the other insert is still in flight: it waits for it.
INSERT INTO stratus_resources (id, tenant, kind, name, labels, spec, status, generation, resource_version, ref_ids)
VALUES ($1, $2, $3, $4, $5::jsonb, $6::jsonb, $7::jsonb, 1, nextval('stratus_resource_version_seq'), $8::text[])
ON CONFLICT (tenant, kind, name) DO NOTHING
RETURNING id, tenant, kind, name, labels, spec, status, generation, resource_version, created_at, updated_at, deletion_requested_at, owner_id
