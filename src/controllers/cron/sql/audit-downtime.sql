-- Per term of the cron key after the first: when it began, and the last slot every earlier
-- term recorded. From that slot to the term's start no controller decided slots.
SELECT j.epoch,
       (extract(epoch FROM j.acquired_at) * 1000)::double precision AS acquired_ms,
       (SELECT (extract(epoch FROM max(s.slot)) * 1000)::double precision
        FROM stratus_cron_slots s WHERE s.epoch < j.epoch) AS last_slot_before_ms,
       (SELECT (extract(epoch FROM p.acquired_at) * 1000)::double precision
        FROM stratus_leadership_journal p
        WHERE p.key_id = j.key_id AND p.epoch < j.epoch ORDER BY p.epoch DESC LIMIT 1) AS previous_acquired_ms
FROM stratus_leadership_journal j
WHERE j.key_id = $1
  AND j.epoch > (SELECT min(epoch) FROM stratus_leadership_journal WHERE key_id = $1)
ORDER BY j.epoch
