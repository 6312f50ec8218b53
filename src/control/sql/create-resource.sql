-- A create in ONE statement: the new resource at generation 1, its operation (pending until
-- its reconcile job runs) and the outbox row of that job ($11 key, $12 body; the relays are
-- woken after COMMIT); $13 the owner of a child resource (its id is in $8 too), or NULL. A name already taken in the tenant and kind inserts none of the three
-- (the caller answers 409), also when the other insert is still in flight: it waits for it.
WITH res AS (
  INSERT INTO stratus_resources (id, tenant, kind, name, labels, spec, status, generation, resource_version, ref_ids, owner_id)
  VALUES ($1, $2, $3, $4, $5::jsonb, $6::jsonb, $7::jsonb, 1, nextval('stratus_resource_version_seq'), $8::text[], $13::text)
  ON CONFLICT (tenant, kind, name) DO NOTHING
  RETURNING id, tenant, kind, name, labels, spec, status, generation, resource_version, created_at, updated_at, deletion_requested_at, owner_id
), op AS (
  INSERT INTO stratus_operations (id, tenant, kind, resource_id, verb, generation, job_key, state)
  SELECT $9, res.tenant, res.kind, res.id, $10, res.generation, $11, 'pending' FROM res
  RETURNING id, verb, state, error, created_at, updated_at, finished_at
), job AS (
  INSERT INTO stratus_outbox (job_key, body)
  SELECT $11, $12 FROM res
  ON CONFLICT (job_key) DO NOTHING
  RETURNING id
)
SELECT res.*, op.id AS op_id, op.verb AS op_verb, op.state AS op_state, op.error AS op_error,
       op.created_at AS op_created_at, op.updated_at AS op_updated_at, op.finished_at AS op_finished_at
FROM res, op
