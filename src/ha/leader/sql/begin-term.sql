-- Run by the session that was just granted the leadership lock: bumps the key's epoch,
-- opens the new term in the journal and closes the previous one, in one statement.
-- The fence is taken exclusive first ($5 is its lock class): the insert reads its source row
-- from the materialized `fence`, so the lock is held before the term row is touched, and it
-- is granted once every fenced write of the old term has ended; writers that come later
-- queue behind it. ON CONFLICT DO UPDATE then updates the newest row version.
WITH fence AS MATERIALIZED (
  SELECT pg_advisory_xact_lock($5::int4, $1::int4)
), bumped AS (
  INSERT INTO stratus_leadership AS t (key_id, key, epoch, holder, backend_pid, updated_at)
  SELECT $1::int4, $2::text, 1, $3::text, $4::int4, clock_timestamp() FROM fence
  ON CONFLICT (key_id) DO UPDATE
    SET epoch = t.epoch + 1,
        key = EXCLUDED.key,
        holder = EXCLUDED.holder,
        backend_pid = EXCLUDED.backend_pid,
        updated_at = clock_timestamp()
  RETURNING key_id, key, epoch, holder, backend_pid, updated_at
), closed AS (
  UPDATE stratus_leadership_journal j
  SET ended_at = b.updated_at, reason = 'superseded'
  FROM bumped b
  WHERE j.key_id = b.key_id AND j.epoch < b.epoch AND j.ended_at IS NULL
  RETURNING j.epoch
), opened AS (
  INSERT INTO stratus_leadership_journal (key_id, key, epoch, holder, backend_pid, acquired_at)
  SELECT key_id, key, epoch, holder, backend_pid, updated_at FROM bumped
  RETURNING epoch
)
SELECT b.epoch, b.updated_at AS acquired_at, (SELECT count(*) FROM closed) AS closed_terms
FROM bumped b
