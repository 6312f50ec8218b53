-- A new key of an existing tenant (the foreign key refuses an unknown one).
INSERT INTO stratus_api_keys (id, tenant, name, role, secret_hash)
VALUES ($1, $2, $3, $4, $5)
RETURNING id, tenant, name, role, created_at, last_used_at, revoked_at
