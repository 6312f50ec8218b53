-- Records a failed attempt under a live lease: 'pending' until retry_at when retryable,
-- 'failed' for good otherwise. No row back means the lease was stale.
UPDATE stratus_ledger
SET state = CASE WHEN $3::boolean THEN 'pending' ELSE 'failed' END,
    retry_at = CASE WHEN $3::boolean THEN now() + $4::integer * interval '1 millisecond' END,
    finished_at = CASE WHEN $3::boolean THEN NULL ELSE now() END,
    lease_expires_at = NULL,
    last_error = $5::text,
    updated_at = now()
WHERE job_key = $1::text
  AND token = $2::bigint
  AND state = 'running'
  AND lease_expires_at > now()
RETURNING job_key
