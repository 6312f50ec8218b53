-- A run's progress as the backend reports it ($2: state, steps, finishedAt) into its status
-- outputs, beside what its reconcile pass wrote; never over a finished run's, nor a deleting one's.
UPDATE stratus_resources
SET status = jsonb_set(status, '{outputs}', coalesce(status -> 'outputs', '{}'::jsonb) || $2::jsonb),
    resource_version = nextval('stratus_resource_version_seq'),
    updated_at = now()
WHERE id = $1
  AND kind = 'pipeline-runs'
  AND deletion_requested_at IS NULL
  AND coalesce(status -> 'outputs' ->> 'state', '') NOT IN ('succeeded', 'failed', 'canceled')
