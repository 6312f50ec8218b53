-- The entries of some job keys, with the database's clock so that callers compare times
-- from one clock only.
SELECT job_key, state, owner, token, attempt, lease_expires_at, retry_at, last_error, reported_at,
       created_at, updated_at, finished_at, now() AS db_now
FROM stratus_ledger
WHERE job_key = ANY($1::text[])
