-- The relay's transaction only marks rows dispatched: if a server crash loses that mark, the
-- rows are dispatched again and the ledger turns the duplicates into no-ops. So it need not
-- wait for its WAL flush (about 2 ms here on every batch). The producer's enqueue, the ledger
-- and the sweeper keep synchronous commits.
SET LOCAL synchronous_commit = off
