-- The fence, shared: held until the write transaction ends, so the next epoch bump (which
-- takes it exclusive) waits for this transaction. Unlike a FOR SHARE row lock, a shared
-- advisory lock is not granted ahead of an exclusive request already waiting: a deposed
-- leader's overlapping writers queue behind the bump and cannot starve it.
SELECT pg_advisory_xact_lock_shared($1::int4, $2::int4)
