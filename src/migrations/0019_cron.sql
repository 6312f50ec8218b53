-- Cron jobs (src/controllers/cron): each slot of each cron job fired exactly once.
--
-- stratus_cron_slots holds one row per slot the cron controller decided to fire, written in the
-- leader's fenced transaction BEFORE the call, with the request it makes: the primary key is
-- the "never twice", and a row still `pending` after a failover is a call its successor retries
-- with the same client token (cron/<id>/<slot>), which the backend delivers at most once. A
-- second write of a slot is not swallowed: it bumps `writes`, which the audit reports.
CREATE TABLE stratus_cron_slots (
  cron_job_id   text NOT NULL,
  slot          timestamptz NOT NULL,
  tenant        text NOT NULL,
  -- The call as recorded: a retry sends exactly this, whatever the job's spec says by then.
  request       jsonb NOT NULL,
  client_token  text NOT NULL,
  -- pending (recorded, not finished), succeeded, failed.
  state         text NOT NULL DEFAULT 'pending' CHECK (state IN ('pending', 'succeeded', 'failed')),
  -- The epoch that recorded the slot, and the one of its last attempt.
  epoch         bigint NOT NULL,
  last_epoch    bigint,
  attempts      integer NOT NULL DEFAULT 0,
  writes        integer NOT NULL DEFAULT 1,
  -- Fired late by catch-up (it came due while no controller ran).
  caught_up     boolean NOT NULL DEFAULT false,
  recorded_at   timestamptz NOT NULL DEFAULT now(),
  finished_at   timestamptz,
  duration_ms   double precision,
  http_status   integer,
  error         text,
  PRIMARY KEY (cron_job_id, slot)
);

-- The recorded-but-unfinished slots every pass retries first.
CREATE INDEX stratus_cron_slots_pending ON stratus_cron_slots (cron_job_id, slot) WHERE state = 'pending';

-- How far each cron job's slots have been decided (fired or skipped): the controller's
-- watermark, moved only in the fenced transaction that records the slots before it. It keeps
-- what the schedule was, so that a resume or a new schedule starts from the change, not from
-- the old watermark.
CREATE TABLE stratus_cron_cursors (
  cron_job_id  text PRIMARY KEY,
  tenant       text NOT NULL,
  decided_to   timestamptz NOT NULL,
  schedule     text NOT NULL,
  time_zone    text NOT NULL,
  paused       boolean NOT NULL,
  -- Slots passed over (missed under skip, or beyond maxCatchUp), all passes together.
  skipped      bigint NOT NULL DEFAULT 0,
  epoch        bigint NOT NULL
);

-- A cron pass reads every cron job, without scanning the other kinds' rows.
CREATE INDEX stratus_resources_cron_jobs ON stratus_resources (id) WHERE kind = 'cron-jobs';
