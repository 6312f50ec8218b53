-- Tells every replica's key cache to drop a key; delivered when the transaction commits.
SELECT pg_notify('stratus_api_keys', $1)
