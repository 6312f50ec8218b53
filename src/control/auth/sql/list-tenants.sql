-- A page of tenants by id, after a cursor ('' for the first page).
SELECT id, created_at FROM stratus_tenants WHERE id > $1 ORDER BY id LIMIT $2
