-- The transactional outbox: a producer writes the job here in its own transaction, so a job
-- exists exactly when the change that asked for it committed. A relay moves rows into the
-- queue; a sweeper re-dispatches rows whose job neither finished nor holds a live lease.
CREATE TABLE stratus_outbox (
  id              bigserial PRIMARY KEY,
  -- One row per job: enqueueing the same key twice is a no-op.
  job_key         text NOT NULL UNIQUE,
  -- The queue message body (the job envelope).
  body            text NOT NULL,
  created_at      timestamptz NOT NULL DEFAULT now(),
  -- Last time the row was put on the queue (relay or sweeper); NULL until the first time.
  dispatched_at   timestamptz,
  dispatch_count  integer NOT NULL DEFAULT 0,
  -- A relay or sweeper is putting the row on the queue until then; after it, a crashed
  -- claimer's rows are claimed again. No transaction is held open across the queue call (on
  -- PGlite, with the queue in the same single-session database, that would deadlock).
  claimed_until   timestamptz,
  -- Set by the sweeper once the ledger shows the job completed or failed for good, so that
  -- its scan covers unfinished rows only.
  done_at         timestamptz
);

-- The relay's scan: rows not yet dispatched, in order.
CREATE INDEX stratus_outbox_undispatched ON stratus_outbox (id) WHERE dispatched_at IS NULL;
-- The sweeper's scan: dispatched rows not yet known to be finished, oldest dispatch first.
CREATE INDEX stratus_outbox_unfinished ON stratus_outbox (dispatched_at)
  WHERE done_at IS NULL AND dispatched_at IS NOT NULL;
