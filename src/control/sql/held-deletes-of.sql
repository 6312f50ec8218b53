-- The resources dependent $1 references whose delete is held for it (a cascading delete,
-- service.ts): being deleted, their newest operation a delete still pending at their generation,
-- and its job never enqueued (it is, once the last dependent is gone). Locked for update,
-- in id order, so two dependents failing at once take turns.
SELECT r.id, r.tenant, r.kind, r.name, r.labels, r.spec, r.status, r.generation, r.resource_version,
       r.created_at, r.updated_at, r.deletion_requested_at, r.owner_id
FROM stratus_resources d
JOIN stratus_resources r ON r.id = ANY (d.ref_ids)
JOIN LATERAL (
  SELECT o.verb, o.state, o.generation, o.job_key
  FROM stratus_operations o
  WHERE o.resource_id = r.id
  ORDER BY o.generation DESC
  LIMIT 1
) op ON true
WHERE d.id = $1
  AND r.deletion_requested_at IS NOT NULL
  AND op.verb = 'delete' AND op.state = 'pending' AND op.generation = r.generation
  AND NOT EXISTS (SELECT 1 FROM stratus_outbox x WHERE x.job_key = op.job_key)
ORDER BY r.id
FOR UPDATE OF r
