-- The stored answer of a live idempotency key.
SELECT fingerprint, answer_status, answer_body
FROM stratus_idempotency
WHERE tenant = $1 AND key = $2 AND expires_at > now()
