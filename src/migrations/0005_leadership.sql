-- Leader election (src/ha/leader). One term row per leadership key: the current epoch,
-- bumped by every new leader right after its advisory lock is granted. Fenced writes read
-- this row FOR SHARE and abort unless their epoch is the current one, so a bump waits for
-- every in-flight write of the old term and makes every later one fail.
CREATE TABLE stratus_leadership (
  key_id       integer PRIMARY KEY,
  key          text NOT NULL,
  epoch        bigint NOT NULL CHECK (epoch > 0),
  holder       text NOT NULL,
  backend_pid  integer NOT NULL,
  updated_at   timestamptz NOT NULL
);

-- Every term ever held, written by the leaders themselves: the new leader opens its term and
-- closes the previous one ('superseded') in the statement that bumps the epoch; a leader that
-- steps down cleanly closes its own with its reason. Drills and the API read it.
CREATE TABLE stratus_leadership_journal (
  key_id       integer NOT NULL,
  key          text NOT NULL,
  epoch        bigint NOT NULL,
  holder       text NOT NULL,
  backend_pid  integer NOT NULL,
  acquired_at  timestamptz NOT NULL,
  ended_at     timestamptz,
  reason       text,
  PRIMARY KEY (key_id, epoch)
);

CREATE INDEX stratus_leadership_journal_open ON stratus_leadership_journal (key_id) WHERE ended_at IS NULL;
CREATE INDEX stratus_leadership_journal_acquired ON stratus_leadership_journal (acquired_at);
