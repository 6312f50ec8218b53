-- A tenant's minutes and charges in [$2, $3), per kind and size.
SELECT kind, size, count(*)::integer AS minutes, sum(price)::float8 AS amount
FROM stratus_usage
WHERE tenant = $1 AND minute >= $2 AND minute < $3
GROUP BY kind, size
ORDER BY kind, size NULLS FIRST
