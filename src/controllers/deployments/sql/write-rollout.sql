-- The controller's report in a deployment's status (outputs.rollout), beside what its reconcile
-- pass wrote; only while the deployment is not being deleted.
UPDATE stratus_resources
SET status = jsonb_set(status, '{outputs}', coalesce(status -> 'outputs', '{}'::jsonb) || jsonb_build_object('rollout', $2::jsonb)),
    resource_version = nextval('stratus_resource_version_seq'),
    updated_at = now()
WHERE id = $1 AND deletion_requested_at IS NULL
