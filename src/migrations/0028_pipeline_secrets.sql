-- A pipeline's webhook secret (src/api/pipelines): what a signed call to
-- `POST /v1/hooks/pipelines/:id` is checked against. Set and removed by members through
-- `/v1/pipelines/:id/webhook-secret`, never read back through the API; gone with its pipeline.
CREATE TABLE stratus_pipeline_secrets (
  pipeline_id  text PRIMARY KEY REFERENCES stratus_resources (id) ON DELETE CASCADE,
  tenant       text NOT NULL,
  secret       text NOT NULL,
  updated_at   timestamptz NOT NULL DEFAULT now()
);
