-- Writes a PATCH or a delete request on a row the transaction holds locked: new labels, spec
-- and status, generation + $7 (0 for a change of labels only), a new resource version.
UPDATE stratus_resources
SET labels = $2::jsonb,
    spec = $3::jsonb,
    status = $4::jsonb,
    -- A child keeps its owner among what it references (migration 0021).
    ref_ids = CASE WHEN owner_id IS NULL OR owner_id = ANY ($5::text[]) THEN $5::text[] ELSE $5::text[] || owner_id END,
    deletion_requested_at = CASE WHEN $6::boolean THEN coalesce(deletion_requested_at, now()) ELSE deletion_requested_at END,
    generation = generation + $7::bigint,
    resource_version = nextval('stratus_resource_version_seq'),
    updated_at = now()
WHERE id = $1
RETURNING id, tenant, kind, name, labels, spec, status, generation, resource_version, created_at, updated_at, deletion_requested_at, owner_id
