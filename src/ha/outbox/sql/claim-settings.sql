-- Settings for the relay's claim, in its own transaction: the commit does not wait for its WAL
-- flush (as relaxed-commit.sql), and the backlog is read through the partial index in id
-- order, stopping at the batch size. Left to itself, the planner (on statistics from when the
-- outbox was nearly empty) reads EVERY undispatched row and sorts them to keep the first 500:
-- 12 of the 19 ms of a claim with 30,000 rows waiting, and a backlog of a million rows would
-- make every claim read a million.
SELECT set_config('synchronous_commit', 'off', true),
       set_config('enable_sort', 'off', true),
       set_config('enable_bitmapscan', 'off', true)
