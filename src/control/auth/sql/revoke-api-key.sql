-- Revokes a key of a tenant (a second revocation keeps the first time).
UPDATE stratus_api_keys SET revoked_at = coalesce(revoked_at, now())
WHERE id = $1 AND tenant = $2
RETURNING id, tenant, name, role, created_at, last_used_at, revoked_at
