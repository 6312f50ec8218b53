-- The outbox row of job $1, locked until the redrive's transaction ends.
SELECT id, body FROM stratus_outbox WHERE job_key = $1 FOR UPDATE
