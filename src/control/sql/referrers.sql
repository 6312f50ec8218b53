-- Resources of the tenant that reference $2, which must go before it does.
SELECT id, kind, name
FROM stratus_resources
WHERE tenant = $1 AND ref_ids @> ARRAY[$2::text]
ORDER BY id
LIMIT 20
