-- The fence's check, run after the fence lock is held (a new statement, so it reads every
-- bump that committed before the lock was granted) and again just before COMMIT: the key's
-- current epoch, and whether the session that holds the term still holds its leadership
-- lock. backend_pid 0 marks a term held in-process (the embedded elector): no session lock.
-- Advisory locks of two int4 keys appear with objsubid = 2, the class in classid, the key in objid.
SELECT t.epoch,
       t.backend_pid = 0 OR EXISTS (
         SELECT 1 FROM pg_locks l
         WHERE l.locktype = 'advisory'
           AND l.pid = t.backend_pid
           AND l.classid = $2::int8::oid
           AND l.objid = $1::int8::oid
           AND l.objsubid = 2
           AND l.granted
       ) AS lock_held
FROM stratus_leadership t
WHERE t.key_id = $1
