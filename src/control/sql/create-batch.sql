-- Several common creates in one statement, one COMMIT: see stratus_create_resources
-- (migration 0016) for the items and what each outcome means.
SELECT item, outcome, created_version, created_answer
FROM stratus_create_resources($1::jsonb, $2)
