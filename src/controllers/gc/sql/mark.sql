-- The orphans seen by this pass ($1 backends, $2 backend ids, $3 resource ids), first seen at $4
-- (ms) unless already marked; an orphan no longer seen is forgotten. Then the ones an orphan
-- for at least the grace $5 (ms), each with a fencing token from the ledger's sequence: above
-- every lease ever granted, so the backend refuses any older job's call on the object after it.
WITH seen AS (
  SELECT * FROM unnest($1::text[], $2::text[], $3::text[]) AS s(backend, backend_id, resource_id)
), forgotten AS (
  DELETE FROM stratus_gc_orphans o
  WHERE NOT EXISTS (SELECT 1 FROM seen s WHERE s.backend = o.backend AND s.backend_id = o.backend_id)
), marked AS (
  INSERT INTO stratus_gc_orphans (backend, backend_id, resource_id, first_seen_at, epoch)
  SELECT backend, backend_id, resource_id, to_timestamp($4 / 1000.0), $6 FROM seen
  ON CONFLICT (backend, backend_id) DO NOTHING
)
SELECT o.backend, o.backend_id, o.resource_id,
       (extract(epoch FROM o.first_seen_at) * 1000)::double precision AS first_seen_ms,
       nextval('stratus_ledger_token_seq') AS token
FROM stratus_gc_orphans o
JOIN seen s ON s.backend = o.backend AND s.backend_id = o.backend_id
WHERE o.first_seen_at <= to_timestamp(($4 - $5) / 1000.0)
ORDER BY o.first_seen_at, o.backend, o.backend_id
LIMIT $7
