-- The execution ledger: one row per job key, the single source of truth for who may run a
-- job now (a lease with a fencing token) and whether it is finished. Every transition is one
-- conditional statement on this row, with database time only.
CREATE SEQUENCE stratus_ledger_token_seq;

CREATE TABLE stratus_ledger (
  job_key           text PRIMARY KEY,
  -- running: leased (live while lease_expires_at > now()); pending: waiting for a retry at
  -- retry_at; completed and failed are terminal.
  state             text NOT NULL CHECK (state IN ('running', 'pending', 'completed', 'failed')),
  owner             text,
  -- From one sequence, so every new lease of a job carries a larger token than the last.
  token             bigint NOT NULL,
  -- Leases taken so far (a takeover after a crash counts: a job that kills its worker must
  -- not be retried forever).
  attempt           integer NOT NULL,
  lease_expires_at  timestamptz,
  retry_at          timestamptz,
  last_error        text,
  created_at        timestamptz NOT NULL DEFAULT now(),
  updated_at        timestamptz NOT NULL DEFAULT now(),
  finished_at       timestamptz
);

-- Drills and the sweeper look for unfinished jobs; finished ones are the vast majority.
CREATE INDEX stratus_ledger_unfinished ON stratus_ledger (updated_at) WHERE state IN ('running', 'pending');
