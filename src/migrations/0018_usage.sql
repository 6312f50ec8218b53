-- Accounting (src/controllers/accounting): every minute of every resource's life, recorded once.
--
-- stratus_usage_lifetimes is when each resource existed, kept by a trigger on stratus_resources
-- in the writing transaction itself (as 0011 keeps events): a resource's row is dropped once its
-- backend confirms the delete, and its billable life must outlive it. `next_minute` is the
-- accounting controller's watermark: the start of the first minute not yet recorded (-infinity:
-- none yet, start at the creation); it moves only in the fenced transaction that inserts the
-- minutes before it.
CREATE TABLE stratus_usage_lifetimes (
  resource_id  text PRIMARY KEY,
  tenant       text NOT NULL,
  kind         text NOT NULL,
  -- An instance's size (spec.size) as last written; NULL for kinds without one.
  size         text,
  created_at   timestamptz NOT NULL,
  -- When the row left stratus_resources (the backend confirmed the delete): the clock at the
  -- DELETE statement, not the transaction's start, so a long transaction does not end it early.
  deleted_at   timestamptz,
  next_minute  timestamptz NOT NULL DEFAULT '-infinity',
  -- Deleted and recorded up to its last minute: no pass reads it again.
  done         boolean NOT NULL DEFAULT false
);

-- A pass reads only what is due: lifetimes not done whose watermark is behind.
-- (not NULL for "none yet": a range on this index then finds exactly the due ones, stopping at
-- the first that is not, so a pass with nothing due reads no lifetime at all).
CREATE INDEX stratus_usage_lifetimes_due ON stratus_usage_lifetimes (next_minute, resource_id) WHERE NOT done;
-- ... and the deleted ones not yet closed, whatever their watermark.
CREATE INDEX stratus_usage_lifetimes_ending ON stratus_usage_lifetimes (resource_id) WHERE NOT done AND deleted_at IS NOT NULL;

-- One row per resource and minute: the primary key is the exactly-once. A second write of a
-- minute does not vanish into ON CONFLICT DO NOTHING: it bumps `writes`, which the audit counts
-- as a double (the minute is still charged once).
CREATE TABLE stratus_usage (
  resource_id  text NOT NULL,
  -- Start of the minute (aligned to the minute length since the Unix epoch).
  minute       timestamptz NOT NULL,
  tenant       text NOT NULL,
  kind         text NOT NULL,
  size         text,
  -- US dollars for this minute: the hourly list price / 60 (instances), 0 for other kinds.
  price        numeric(20, 10) NOT NULL,
  -- The minute length the row was recorded with (ACCOUNTING_MINUTE_MS).
  minute_ms    integer NOT NULL,
  -- The accounting leader's epoch that recorded it.
  epoch        bigint NOT NULL,
  writes       integer NOT NULL DEFAULT 1,
  recorded_at  timestamptz NOT NULL DEFAULT now(),
  PRIMARY KEY (resource_id, minute)
);

-- A tenant's usage by time (GET /v1/usage, GET /v1/billing/summary).
CREATE INDEX stratus_usage_tenant ON stratus_usage (tenant, minute, resource_id);

CREATE FUNCTION stratus_usage_lifetime() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  IF TG_OP = 'INSERT' THEN
    INSERT INTO stratus_usage_lifetimes (resource_id, tenant, kind, size, created_at)
    VALUES (NEW.id, NEW.tenant, NEW.kind, NEW.spec ->> 'size', NEW.created_at)
    ON CONFLICT (resource_id) DO NOTHING;
  ELSIF TG_OP = 'DELETE' THEN
    UPDATE stratus_usage_lifetimes SET deleted_at = clock_timestamp()
    WHERE resource_id = OLD.id AND deleted_at IS NULL;
  ELSIF NEW.spec ->> 'size' IS DISTINCT FROM OLD.spec ->> 'size' THEN
    UPDATE stratus_usage_lifetimes SET size = NEW.spec ->> 'size' WHERE resource_id = NEW.id;
  END IF;
  RETURN NULL;
END
$$;

-- Not on every write: the reconciler's status writes never change a lifetime.
CREATE TRIGGER stratus_usage_lifetime AFTER INSERT OR UPDATE OF spec OR DELETE ON stratus_resources
FOR EACH ROW EXECUTE FUNCTION stratus_usage_lifetime();

-- Resources that exist when accounting arrives start being accounted from their creation.
INSERT INTO stratus_usage_lifetimes (resource_id, tenant, kind, size, created_at)
SELECT id, tenant, kind, spec ->> 'size', created_at FROM stratus_resources;

-- The singleton controllers' reports (src/controllers/framework), one row per controller, written
-- by its leader after every pass and read by any replica for GET /v1/system/controllers.
CREATE TABLE stratus_controllers (
  name             text PRIMARY KEY,
  leader           text NOT NULL,
  epoch            bigint NOT NULL,
  passes           bigint NOT NULL,
  errors           bigint NOT NULL,
  last_error       text,
  last_error_at    timestamptz,
  pass_started_at  timestamptz NOT NULL,
  pass_ended_at    timestamptz NOT NULL,
  pass_ms          double precision NOT NULL,
  lag_ms           double precision,
  reported_at      timestamptz NOT NULL
);
