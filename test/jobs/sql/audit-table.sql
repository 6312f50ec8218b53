-- The fake backend's append-only audit: one row per call, refused or not. Nothing here is
-- unique but the id: a second effect for one client token is stored like any other row, so
-- the checks counted from this table can fail.
CREATE TABLE fake_audit (
  id            bigserial PRIMARY KEY,
  op            text NOT NULL CHECK (op IN ('observe', 'create')),
  client_token  text NOT NULL,
  fencing_token bigint NOT NULL,
  node          text NOT NULL,
  attempt       integer NOT NULL,
  -- The fencing token was the job's live lease in the ledger when the call ran.
  lease_live    boolean NOT NULL,
  -- The backend acted on the call: under a live lease, or under any lease with fencing off.
  accepted      boolean NOT NULL,
  -- observe: an accepted create for this client token existed.
  found         boolean,
  at            timestamptz NOT NULL DEFAULT clock_timestamp()
)
