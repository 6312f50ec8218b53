-- The transactions of this database that may hold an event id not yet committed: the holders of
-- the event writers' lock (LockClass.eventWriters, key 0, two-integer form), as virtual
-- transaction ids. Read after event-id-high.sql: every writer holding an id up to that one is
-- either finished or listed here.
SELECT coalesce(array_agg(virtualtransaction), '{}') AS writers
FROM pg_locks
WHERE locktype = 'advisory'
  AND database = (SELECT oid FROM pg_database WHERE datname = current_database())
  AND classid = 1398013955 AND objid = 0 AND objsubid = 2
