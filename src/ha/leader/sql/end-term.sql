-- A leader that steps down closes its own term with its reason (a no-op once a newer term
-- has closed it as superseded).
UPDATE stratus_leadership_journal
SET ended_at = clock_timestamp(), reason = $3
WHERE key_id = $1 AND epoch = $2 AND ended_at IS NULL
