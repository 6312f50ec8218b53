-- One key of a tenant, without its hash; another tenant's id finds nothing.
SELECT id, tenant, name, role, created_at, last_used_at, revoked_at
FROM stratus_api_keys WHERE id = $1 AND tenant = $2
