-- The resource store (src/control): one table for every kind. `spec` is what the user asked
-- for, `status` what the reconciler last saw; only the reconciler writes `status`, only the API
-- writes `spec`, `labels` and `deletion_requested_at`.
CREATE SEQUENCE stratus_resource_version_seq;

CREATE TABLE stratus_resources (
  -- Prefixed by kind (`net_…`, `inst_…`) so an id alone says what it names.
  id                     text PRIMARY KEY,
  tenant                 text NOT NULL,
  kind                   text NOT NULL,
  name                   text NOT NULL,
  labels                 jsonb NOT NULL DEFAULT '{}'::jsonb,
  spec                   jsonb NOT NULL,
  status                 jsonb NOT NULL,
  -- Bumped by every change of spec and by the delete request: each generation is one job.
  generation             bigint NOT NULL CHECK (generation > 0),
  -- Bumped by every write of the row, from one sequence: the ETag, and later the watch cursor.
  resource_version       bigint NOT NULL,
  -- Ids of the resources this one references (an instance's network): delete refuses while
  -- any row names the resource here.
  ref_ids                text[] NOT NULL DEFAULT '{}',
  created_at             timestamptz NOT NULL DEFAULT now(),
  updated_at             timestamptz NOT NULL DEFAULT now(),
  deletion_requested_at  timestamptz,
  CONSTRAINT stratus_resources_name_unique UNIQUE (tenant, kind, name)
);

-- Listing pages by id within one tenant and kind.
CREATE INDEX stratus_resources_list ON stratus_resources (tenant, kind, id);
-- "Who references this resource?" at delete time.
CREATE INDEX stratus_resources_refs ON stratus_resources USING gin (ref_ids);

-- One row per accepted mutation: what the caller polls (`GET /v1/operations/:id`).
CREATE TABLE stratus_operations (
  id             text PRIMARY KEY,
  tenant         text NOT NULL,
  kind           text NOT NULL,
  resource_id    text NOT NULL,
  verb           text NOT NULL CHECK (verb IN ('create', 'update', 'delete')),
  generation     bigint NOT NULL,
  -- The reconcile job carrying it: `reconcile/<kind>/<id>/<generation>`.
  job_key        text NOT NULL UNIQUE,
  -- superseded: a newer generation of the resource took over before this one was reconciled.
  state          text NOT NULL CHECK (state IN ('pending', 'running', 'succeeded', 'failed', 'superseded')),
  -- { reason, message } of the last failure.
  error          jsonb,
  created_at     timestamptz NOT NULL DEFAULT now(),
  updated_at     timestamptz NOT NULL DEFAULT now(),
  finished_at    timestamptz
);

CREATE INDEX stratus_operations_resource ON stratus_operations (resource_id, generation);

-- Idempotency-Key (DESIGN.md §7): the first answer to a mutating request, per tenant and key,
-- written in the same transaction as the change it answers. A retry replays it; the same key
-- with another request (fingerprint) is refused. The row exists exactly when the change does.
CREATE TABLE stratus_idempotency (
  tenant          text NOT NULL,
  key             text NOT NULL CHECK (length(key) BETWEEN 1 AND 255),
  -- sha256 of method, route and canonical body.
  fingerprint     text NOT NULL,
  -- The stored answer; NULL only inside the transaction that claims the key.
  answer_status   integer,
  -- The body exactly as first sent (text, not jsonb, so a replay is byte for byte the same).
  answer_body     text,
  created_at      timestamptz NOT NULL DEFAULT now(),
  expires_at      timestamptz NOT NULL,
  PRIMARY KEY (tenant, key)
);

CREATE INDEX stratus_idempotency_expiry ON stratus_idempotency (expires_at);
