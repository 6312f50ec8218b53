-- A page of a tenant's recorded minutes, by minute then resource, after the cursor ($6, $7).
SELECT resource_id, minute, kind, size, price::float8 AS price, minute_ms
FROM stratus_usage
WHERE tenant = $1
  AND ($2::text IS NULL OR resource_id = $2)
  AND ($3::text IS NULL OR kind = $3)
  AND ($4::timestamptz IS NULL OR minute >= $4)
  AND ($5::timestamptz IS NULL OR minute < $5)
  AND ($6::timestamptz IS NULL OR (minute, resource_id) > ($6, $7::text))
ORDER BY minute, resource_id
LIMIT $8
