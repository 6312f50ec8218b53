-- The relay's and the sweeper's own writes (claims, dispatch marks) need not wait for their
-- WAL flush: if a server crash loses one, rows are put on the queue again, and the ledger turns
-- the duplicates into no-ops. Sparing those flushes leaves the disk to the writes that must be
-- durable: the producers' enqueues and the ledger.
SET LOCAL synchronous_commit = off
