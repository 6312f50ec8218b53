-- The heartbeat: which leadership locks does THIS session hold right now? (Two-integer
-- advisory locks appear with objsubid = 2, the class in classid and the key in objid.)
SELECT objid::int8 AS key_id
FROM pg_locks
WHERE locktype = 'advisory'
  AND pid = pg_backend_pid()
  AND classid = $1::int8::oid
  AND objsubid = 2
  AND granted
