-- A controller leader's report of one pass ($4: 1 when it failed). A report from an older term
-- than the one recorded is ignored: a deposed leader never overwrites its successor's.
INSERT INTO stratus_controllers AS c
  (name, leader, epoch, passes, errors, last_error, last_error_at, pass_started_at, pass_ended_at, pass_ms, lag_ms, reported_at)
VALUES ($1, $2, $3, 1, $4, $5, CASE WHEN $5::text IS NULL THEN NULL ELSE now() END, $6, $7, $8, $9, now())
ON CONFLICT (name) DO UPDATE SET
  leader = EXCLUDED.leader, epoch = EXCLUDED.epoch,
  passes = c.passes + 1, errors = c.errors + EXCLUDED.errors,
  last_error = COALESCE(EXCLUDED.last_error, c.last_error),
  last_error_at = COALESCE(EXCLUDED.last_error_at, c.last_error_at),
  pass_started_at = EXCLUDED.pass_started_at, pass_ended_at = EXCLUDED.pass_ended_at,
  pass_ms = EXCLUDED.pass_ms, lag_ms = EXCLUDED.lag_ms, reported_at = now()
WHERE c.epoch <= EXCLUDED.epoch
