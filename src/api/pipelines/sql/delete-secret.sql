-- Removes a pipeline's webhook secret: signed calls are refused from then on.
DELETE FROM stratus_pipeline_secrets WHERE pipeline_id = $1 AND tenant = $2
