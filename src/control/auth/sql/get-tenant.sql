-- One tenant.
SELECT id, created_at FROM stratus_tenants WHERE id = $1
