-- What housekeeping's audit reads of the tables it prunes, as one JSON document: every row's
-- identity and the fields its rules look at, times in ms since the Unix epoch.
SELECT
  (SELECT coalesce(json_agg(json_build_object(
     'tenant', tenant, 'key', key,
     'expiresMs', (extract(epoch FROM expires_at) * 1000)::bigint)), '[]'::json)
   FROM stratus_idempotency) AS idempotency,
  (SELECT coalesce(json_agg(json_build_object(
     'id', id, 'timeMs', (extract(epoch FROM time) * 1000)::bigint)), '[]'::json)
   FROM stratus_events) AS events,
  (SELECT coalesce(json_agg(json_build_object(
     'id', id, 'jobKey', job_key,
     'doneMs', (extract(epoch FROM done_at) * 1000)::bigint)), '[]'::json)
   FROM stratus_outbox) AS outbox,
  (SELECT coalesce(json_agg(json_build_object(
     'jobKey', job_key, 'state', state,
     'finishedMs', (extract(epoch FROM finished_at) * 1000)::bigint)), '[]'::json)
   FROM stratus_ledger) AS ledger,
  (SELECT coalesce(json_agg(json_build_object(
     'id', o.id, 'jobKey', o.job_key, 'state', o.state, 'resourceId', o.resource_id,
     'generation', o.generation,
     'resourceExists', EXISTS (SELECT 1 FROM stratus_resources AS r WHERE r.id = o.resource_id))), '[]'::json)
   FROM stratus_operations AS o) AS operations,
  (SELECT coalesce(json_agg(json_build_object(
     'keyId', key_id, 'epoch', epoch,
     'acquiredMs', (extract(epoch FROM acquired_at) * 1000)::bigint,
     'endedMs', (extract(epoch FROM ended_at) * 1000)::bigint)), '[]'::json)
   FROM stratus_leadership_journal) AS journal
