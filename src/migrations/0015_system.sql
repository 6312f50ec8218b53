-- What `/v1/system` shows of every replica, beyond 0001: the machine it runs on, whether it is
-- draining (shutting down: readiness off, finishing in-flight work), and the states of its
-- backend breakers. A breaker lives in the process that calls the backend (a worker), not in the
-- API replica answering the request, so each process publishes its own with its heartbeat.
ALTER TABLE stratus_nodes ADD COLUMN host text NOT NULL DEFAULT '';
ALTER TABLE stratus_nodes ADD COLUMN draining_since timestamptz;
ALTER TABLE stratus_nodes ADD COLUMN breakers jsonb NOT NULL DEFAULT '[]'::jsonb;
ALTER TABLE stratus_nodes ADD COLUMN breakers_at timestamptz;

-- Every redrive of a dead-lettered job: who asked, what the job had been through. The ledger row
-- is reset in the same transaction, so a second redrive of the same dead letter finds the job no
-- longer failed and is refused.
CREATE TABLE stratus_redrives (
  id              bigserial PRIMARY KEY,
  job_key         text NOT NULL,
  redriven_at     timestamptz NOT NULL DEFAULT now(),
  -- The attempts and last error the dead letter had.
  attempts        integer NOT NULL,
  last_error      text
);

CREATE INDEX stratus_redrives_job ON stratus_redrives (job_key, id);
-- Listing dead letters by key: only failed rows are read.
CREATE INDEX stratus_ledger_failed ON stratus_ledger (job_key) WHERE state = 'failed';
