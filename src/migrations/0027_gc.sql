-- Garbage collection of backend objects no resource owns (src/controllers/gc): an object whose
-- resource-id label names no resource is an orphan from the first pass that saw it; once it has
-- been one for the grace period the collector deletes it, fenced by a token above every lease
-- ever granted, and records the deletion.
CREATE TABLE stratus_gc_orphans (
  backend        text NOT NULL,
  backend_id     text NOT NULL,
  resource_id    text NOT NULL,
  first_seen_at  timestamptz NOT NULL,
  epoch          bigint NOT NULL,
  PRIMARY KEY (backend, backend_id)
);

CREATE TABLE stratus_gc_deletions (
  backend        text NOT NULL,
  backend_id     text NOT NULL,
  resource_id    text NOT NULL,
  first_seen_at  timestamptz NOT NULL,
  deleted_at     timestamptz NOT NULL,
  epoch          bigint NOT NULL,
  token          bigint NOT NULL,
  PRIMARY KEY (backend, backend_id)
);
