-- Stores the answer of the request that claimed the key, in its own transaction.
UPDATE stratus_idempotency
SET answer_status = $3, answer_body = $4
WHERE tenant = $1 AND key = $2
