-- The key a request presents, by its public id, for verification.
SELECT id, tenant, name, role, secret_hash, revoked_at FROM stratus_api_keys WHERE id = $1
