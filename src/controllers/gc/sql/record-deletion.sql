-- One orphan deleted in its backend: out of the orphans, into the deletions.
WITH gone AS (
  DELETE FROM stratus_gc_orphans WHERE backend = $1 AND backend_id = $2
  RETURNING backend, backend_id, resource_id, first_seen_at
)
INSERT INTO stratus_gc_deletions (backend, backend_id, resource_id, first_seen_at, deleted_at, epoch, token)
SELECT backend, backend_id, resource_id, first_seen_at, to_timestamp($3 / 1000.0), $4, $5 FROM gone
ON CONFLICT (backend, backend_id) DO NOTHING
