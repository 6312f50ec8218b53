-- The ledger state of job $1 (no row: the job never started).
SELECT state FROM stratus_ledger WHERE job_key = $1
