-- Resources of the tenant that reference $2, which must go before it does; its children
-- (owned by it) only when $3.
SELECT id, kind, name
FROM stratus_resources
WHERE tenant = $1 AND ref_ids @> ARRAY[$2::text]
  AND ($3::boolean OR owner_id IS DISTINCT FROM $2)
ORDER BY id
LIMIT 20
