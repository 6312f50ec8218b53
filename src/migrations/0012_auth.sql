-- Tenants and their API keys (docs/auth.md). A key is shown once, at creation; only the
-- SHA-256 of its secret is kept. Revoking sets revoked_at and NOTIFYs `stratus_api_keys` in the
-- same transaction, so every replica's cache drops the key when the revocation commits.
CREATE TABLE stratus_tenants (
  id          text PRIMARY KEY CHECK (id ~ '^[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?$'),
  created_at  timestamptz NOT NULL DEFAULT now()
);

-- The tenant of an embedded installation, and of the operators (its admin keys).
INSERT INTO stratus_tenants (id) VALUES ('local');

CREATE TABLE stratus_api_keys (
  -- The public part of the key (`stratus_<id>_…`): what the key is looked up by.
  id            text PRIMARY KEY,
  tenant        text NOT NULL REFERENCES stratus_tenants (id),
  name          text NOT NULL,
  role          text NOT NULL CHECK (role IN ('admin', 'member', 'viewer')),
  -- hex SHA-256 of the secret part.
  secret_hash   text NOT NULL,
  created_at    timestamptz NOT NULL DEFAULT now(),
  -- Refreshed at most once a minute per key and process, never per request.
  last_used_at  timestamptz,
  revoked_at    timestamptz
);

CREATE INDEX stratus_api_keys_tenant ON stratus_api_keys (tenant, id);
