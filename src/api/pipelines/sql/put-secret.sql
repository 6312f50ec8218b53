-- Sets a pipeline's webhook secret, replacing the one before.
INSERT INTO stratus_pipeline_secrets (pipeline_id, tenant, secret)
VALUES ($1, $2, $3)
ON CONFLICT (pipeline_id) DO UPDATE SET secret = EXCLUDED.secret, updated_at = now()
WHERE stratus_pipeline_secrets.tenant = EXCLUDED.tenant
