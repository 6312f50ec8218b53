-- The fence: holds the term row FOR SHARE until the write transaction ends, so a new
-- leader's bump waits for this transaction, and this transaction sees a bump that
-- committed first (READ COMMITTED re-reads the newest row version after the wait).
SELECT epoch FROM stratus_leadership WHERE key_id = $1 FOR SHARE
