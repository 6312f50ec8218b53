-- Claims an idempotency key for this transaction: a new row, or an expired one taken over.
-- It first sets the transaction's lock_timeout to $5 (e.g. '5000ms', transaction-local): while
-- another transaction holds an uncommitted claim on the key this waits for it that long at most;
-- a live committed row returns nothing, and the caller reads it to replay its answer. One
-- statement, one round trip: the row inserted is made from the set_config, so the setting is in
-- force before the insert can wait.
INSERT INTO stratus_idempotency (tenant, key, fingerprint, expires_at)
SELECT $1, $2, $3, now() + make_interval(secs => $4::double precision / 1000)
FROM (SELECT set_config('lock_timeout', $5, true)) AS wait
ON CONFLICT (tenant, key) DO UPDATE
SET fingerprint = EXCLUDED.fingerprint,
    answer_status = NULL,
    answer_body = NULL,
    created_at = now(),
    expires_at = EXCLUDED.expires_at
WHERE stratus_idempotency.expires_at <= now()
RETURNING key
