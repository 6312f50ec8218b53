-- Finished runs past their pipeline's `keepRuns` (default $1), newest kept: at most $2 of them.
SELECT r.id, r.tenant
FROM (
  SELECT id, tenant, created_at, spec ->> 'pipeline' AS pipeline,
         row_number() OVER (PARTITION BY spec ->> 'pipeline' ORDER BY created_at DESC, id DESC) AS n
  FROM stratus_resources
  WHERE kind = 'pipeline-runs'
    AND deletion_requested_at IS NULL
    AND status -> 'outputs' ->> 'state' IN ('succeeded', 'failed', 'canceled')
) AS r
JOIN stratus_resources AS p ON p.id = r.pipeline AND p.kind = 'pipelines'
WHERE r.n > coalesce((p.spec ->> 'keepRuns')::integer, $1::integer)
ORDER BY r.created_at, r.id
LIMIT $2::integer
