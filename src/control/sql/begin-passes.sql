-- The start of many reconcile passes in ONE statement, as begin-pass.sql for each request
-- ($1 resource ids, $2 job keys, $3 lease tokens, $4 generations): every resource asked for
-- (target = true, with its ref_ids) and the resources they reference that were not asked for
-- (target = false); and the operation of each job moved to running when its resource is at the
-- job's generation, its lease is live and the operation is not terminal yet. A resource missing
-- from the rows is gone.
WITH req AS (
  SELECT q.id, q.job_key, q.token, q.generation
  FROM unnest($1::text[], $2::text[], $3::bigint[], $4::bigint[]) AS q(id, job_key, token, generation)
), target AS (
  SELECT id, tenant, kind, name, labels, spec, status, generation, resource_version, created_at, updated_at, deletion_requested_at, owner_id, ref_ids
  FROM stratus_resources
  WHERE id = ANY ($1::text[])
), running AS (
  UPDATE stratus_operations AS o
  SET state = 'running', error = NULL, updated_at = now(), finished_at = NULL
  FROM req AS q
  WHERE o.job_key = q.job_key
    AND o.state IN ('pending', 'running')
    AND EXISTS (SELECT 1 FROM target AS t WHERE t.id = q.id AND t.generation = q.generation)
    AND EXISTS (
      SELECT 1 FROM stratus_ledger AS l
      WHERE l.job_key = q.job_key AND l.token = q.token AND l.state = 'running' AND l.lease_expires_at > now()
    )
  RETURNING o.id
)
SELECT true AS target, t.ref_ids, t.id, t.tenant, t.kind, t.name, t.labels, t.spec, t.status, t.generation, t.resource_version, t.created_at, t.updated_at, t.deletion_requested_at, t.owner_id
FROM target AS t
UNION ALL
SELECT false, NULL, r.id, r.tenant, r.kind, r.name, r.labels, r.spec, r.status, r.generation, r.resource_version, r.created_at, r.updated_at, r.deletion_requested_at, r.owner_id
FROM stratus_resources AS r
WHERE r.id IN (SELECT unnest(ref_ids) FROM target)
  AND r.id <> ALL ($1::text[])
