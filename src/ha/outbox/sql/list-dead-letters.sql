-- Jobs failed for good (the ledger's dead letters), in job key order after $1 (NULL: from the
-- start), of job kind $2 (NULL: every kind), at most $3. The body comes from the outbox row the
-- job was enqueued with (NULL for a job put on the queue without the outbox).
SELECT l.job_key, l.attempt, l.last_error, l.created_at, l.finished_at, l.reported_at,
       o.body, o.created_at AS enqueued_at,
       (SELECT count(*) FROM stratus_redrives r WHERE r.job_key = l.job_key)::integer AS redrives
FROM stratus_ledger AS l
LEFT JOIN stratus_outbox AS o ON o.job_key = l.job_key
WHERE l.state = 'failed'
  AND ($1::text IS NULL OR l.job_key > $1::text)
  AND ($2::text IS NULL OR (o.body::jsonb ->> 'kind') = $2::text)
ORDER BY l.job_key
LIMIT $3
