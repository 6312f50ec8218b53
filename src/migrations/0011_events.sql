-- Events (DESIGN.md §7): one row per write of a resource, appended by a trigger in the writing
-- transaction itself, so an event exists exactly when its change does. A trigger, not inserts in
-- the store: it sees every path that writes stratus_resources (create, PATCH, delete request,
-- the reconciler's status writes, the final removal, the dead-letter hook) and any path added
-- later, with no statement able to forget it.
CREATE TABLE stratus_events (
  -- Drawn when the event is written, not when it commits: readers only read ids below the
  -- horizon of finished writers (src/control/events/horizon.ts), never simply `id > last`.
  id                bigserial PRIMARY KEY,
  time              timestamptz NOT NULL DEFAULT now(),
  tenant            text NOT NULL,
  kind              text NOT NULL,
  resource_id       text NOT NULL,
  name              text NOT NULL,
  type              text NOT NULL CHECK (type IN ('Created', 'SpecChanged', 'LabelsChanged', 'StatusChanged', 'DeletionRequested', 'Deleted')),
  generation        bigint NOT NULL,
  resource_version  bigint NOT NULL,
  phase             text,
  -- The Ready condition's reason and message after the write.
  reason            text,
  message           text,
  -- The row after the write (before it, for Deleted), as to_jsonb gives it.
  resource          jsonb NOT NULL
);

-- Listing a tenant's events, optionally of one resource or one kind, from a cursor.
CREATE INDEX stratus_events_tenant ON stratus_events (tenant, id);
CREATE INDEX stratus_events_resource ON stratus_events (resource_id, id);
-- Retention.
CREATE INDEX stratus_events_time ON stratus_events (time);

-- The highest id retention has removed: a `since` below it answers 410 (the client re-lists).
CREATE TABLE stratus_events_pruned (
  only_row  boolean PRIMARY KEY DEFAULT true CHECK (only_row),
  up_to     bigint NOT NULL
);
INSERT INTO stratus_events_pruned (up_to) VALUES (0);

CREATE FUNCTION stratus_resource_event() RETURNS trigger LANGUAGE plpgsql AS $$
DECLARE
  r stratus_resources;
  kind_of text;
  ready jsonb;
BEGIN
  -- Every writer of events holds this lock (shared: writers never wait for each other) from
  -- before it draws an event id until it commits or rolls back: the horizon's readers see in
  -- pg_locks who may still hold an unpublished id. Class 0x53540003 of src/ha/db/lock-ids.ts.
  PERFORM pg_advisory_xact_lock_shared(1398013955, 0);
  IF TG_OP = 'INSERT' THEN
    r := NEW;
    kind_of := 'Created';
  ELSIF TG_OP = 'DELETE' THEN
    r := OLD;
    -- The removal is a write too: it gets its own resource version, so a watcher's last seen
    -- version always moves on.
    r.resource_version := nextval('stratus_resource_version_seq');
    kind_of := 'Deleted';
  ELSE
    r := NEW;
    IF NEW.deletion_requested_at IS NOT NULL AND OLD.deletion_requested_at IS NULL THEN
      kind_of := 'DeletionRequested';
    ELSIF NEW.spec IS DISTINCT FROM OLD.spec OR NEW.generation <> OLD.generation THEN
      kind_of := 'SpecChanged';
    ELSIF NEW.labels IS DISTINCT FROM OLD.labels THEN
      kind_of := 'LabelsChanged';
    ELSIF NEW.status IS DISTINCT FROM OLD.status THEN
      kind_of := 'StatusChanged';
    ELSE
      -- Nothing a client can see changed (a status written again as it was).
      RETURN NULL;
    END IF;
  END IF;
  SELECT c INTO ready FROM jsonb_array_elements(r.status -> 'conditions') AS c
  WHERE c ->> 'type' = 'Ready' LIMIT 1;
  INSERT INTO stratus_events (tenant, kind, resource_id, name, type, generation, resource_version,
                              phase, reason, message, resource)
  VALUES (r.tenant, r.kind, r.id, r.name, kind_of, r.generation, r.resource_version,
          r.status ->> 'phase', ready ->> 'reason', ready ->> 'message', to_jsonb(r));
  RETURN NULL;
END
$$;

CREATE TRIGGER stratus_resource_event AFTER INSERT OR UPDATE OR DELETE ON stratus_resources
FOR EACH ROW EXECUTE FUNCTION stratus_resource_event();
