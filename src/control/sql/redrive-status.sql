-- Redrive: resource $1, still at generation $2 and Failed, shows status $3 (no longer Failed,
-- Ready=False with reason Redriven) until the redriven pass writes its own. Returns the rows changed.
UPDATE stratus_resources
SET status = $3::jsonb, resource_version = nextval('stratus_resource_version_seq'), updated_at = now()
WHERE id = $1 AND generation = $2 AND status ->> 'phase' = 'Failed'
RETURNING id
