-- Moves the watermarks past the slots recorded in the same transaction ($1 ids, $2 tenants,
-- $3 decided-to in ms, $4 schedules, $5 time zones, $6 paused, $7 skipped, $8 epoch).
INSERT INTO stratus_cron_cursors AS c (cron_job_id, tenant, decided_to, schedule, time_zone, paused, skipped, epoch)
SELECT id, tenant, to_timestamp(decided_ms / 1000.0), schedule, zone, paused, skipped, $8
FROM unnest($1::text[], $2::text[], $3::double precision[], $4::text[], $5::text[], $6::boolean[], $7::bigint[])
  AS t(id, tenant, decided_ms, schedule, zone, paused, skipped)
ON CONFLICT (cron_job_id) DO UPDATE
SET decided_to = greatest(c.decided_to, excluded.decided_to), schedule = excluded.schedule,
    time_zone = excluded.time_zone, paused = excluded.paused, skipped = c.skipped + excluded.skipped,
    epoch = excluded.epoch
