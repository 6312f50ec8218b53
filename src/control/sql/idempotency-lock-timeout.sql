-- How long ($1, e.g. '5000ms') this transaction waits for another in flight with the same
-- idempotency key before the request answers 409. Transaction-local.
SELECT set_config('lock_timeout', $1, true)
