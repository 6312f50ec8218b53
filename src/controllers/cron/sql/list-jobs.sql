-- Every cron job not being deleted, with its watermark (NULL: never planned yet).
SELECT r.id, r.tenant, r.spec,
       (extract(epoch FROM r.created_at) * 1000)::double precision AS created_ms,
       (extract(epoch FROM r.updated_at) * 1000)::double precision AS updated_ms,
       (extract(epoch FROM c.decided_to) * 1000)::double precision AS decided_ms,
       c.schedule, c.time_zone, c.paused
FROM stratus_resources r
LEFT JOIN stratus_cron_cursors c ON c.cron_job_id = r.id
WHERE r.kind = 'cron-jobs' AND r.deletion_requested_at IS NULL
ORDER BY r.id
