-- The cron jobs an audit judges: every one still stored, with its schedule, its policy, when it
-- was created, its generation (above 1: its spec changed) and when its deletion was asked
-- (slots after that are not owed).
SELECT id,
       spec->>'schedule' AS schedule,
       spec->>'timeZone' AS time_zone,
       spec->>'missedSlots' AS missed_slots,
       (spec->>'maxCatchUp')::int AS max_catch_up,
       (spec->>'paused')::boolean AS paused,
       (extract(epoch FROM created_at) * 1000)::double precision AS created_ms,
       generation,
       (extract(epoch FROM deletion_requested_at) * 1000)::double precision AS deletion_ms
FROM stratus_resources
WHERE kind = 'cron-jobs'
ORDER BY id
