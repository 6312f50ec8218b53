-- Records that the failure of job $1, failed for good, was reported. No row back: it was
-- reported already (or the job is not failed).
UPDATE stratus_ledger
SET reported_at = now()
WHERE job_key = $1::text
  AND state = 'failed'
  AND reported_at IS NULL
RETURNING job_key
