-- The tenant and webhook secret of a pipeline that is not being deleted.
SELECT s.tenant, s.secret, p.name
FROM stratus_pipeline_secrets AS s
JOIN stratus_resources AS p ON p.id = s.pipeline_id AND p.kind = 'pipelines' AND p.deletion_requested_at IS NULL
WHERE s.pipeline_id = $1
