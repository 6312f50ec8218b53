-- A plain read (never blocks): the holder checks that the epoch it bumped is still current
-- once the lock is on its own session.
SELECT epoch FROM stratus_leadership WHERE key_id = $1
