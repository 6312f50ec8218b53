-- A page of a tenant's keys by id, after a cursor ('' for the first page), without hashes.
SELECT id, tenant, name, role, created_at, last_used_at, revoked_at
FROM stratus_api_keys WHERE tenant = $1 AND id > $2 ORDER BY id LIMIT $3
