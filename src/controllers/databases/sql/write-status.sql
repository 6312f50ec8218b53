-- A controller's status write of one database: only over the row it read (resource version $2),
-- so a reconciler's write in between wins and the next pass merges into that one instead.
UPDATE stratus_resources
SET status = $3::jsonb, resource_version = nextval('stratus_resource_version_seq'), updated_at = now()
WHERE id = $1 AND resource_version = $2
RETURNING id
