-- Claims an idempotency key for this transaction: a new row, or an expired one taken over.
-- While another transaction holds an uncommitted claim on the key this waits for it (bounded
-- by the transaction's lock_timeout); a live committed row returns nothing, and the caller
-- reads it to replay its answer.
INSERT INTO stratus_idempotency (tenant, key, fingerprint, expires_at)
VALUES ($1, $2, $3, now() + make_interval(secs => $4::double precision / 1000))
ON CONFLICT (tenant, key) DO UPDATE
SET fingerprint = EXCLUDED.fingerprint,
    answer_status = NULL,
    answer_body = NULL,
    created_at = now(),
    expires_at = EXCLUDED.expires_at
WHERE stratus_idempotency.expires_at <= now()
RETURNING key
