-- The cluster reconciler's report ($2: phase, reason, pools, endpoint...) in a cluster's status
-- outputs, beside what its reconcile pass wrote; only while the cluster is not being deleted.
UPDATE stratus_resources
SET status = jsonb_set(status, '{outputs}', coalesce(status -> 'outputs', '{}'::jsonb) || $2::jsonb),
    resource_version = nextval('stratus_resource_version_seq'),
    updated_at = now()
WHERE id = $1 AND kind = 'clusters' AND deletion_requested_at IS NULL
