-- Records the slots a pass fires, before their calls, in the term's fenced transaction
-- ($1 ids, $2 slots in ms, $3 tenants, $4 requests, $5 client tokens, $6 caught up, $7 epoch).
-- A slot recorded already is a double: never expected, it bumps `writes` for the audit.
INSERT INTO stratus_cron_slots AS s (cron_job_id, slot, tenant, request, client_token, caught_up, epoch)
SELECT id, to_timestamp(slot_ms / 1000.0), tenant, request, token, caught_up, $7
FROM unnest($1::text[], $2::double precision[], $3::text[], $4::jsonb[], $5::text[], $6::boolean[])
  AS t(id, slot_ms, tenant, request, token, caught_up)
ON CONFLICT (cron_job_id, slot) DO UPDATE SET writes = s.writes + 1
