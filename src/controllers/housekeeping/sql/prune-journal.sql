-- Removes up to $3 ended terms of the leadership journal acquired and ended before the horizon
-- (the reference time $1 in ms, never ahead of the database's clock, less $2 ms). The newest
-- term of every key stays, so its epoch is never forgotten.
WITH horizon AS (
  SELECT least(to_timestamp($1::double precision / 1000), now()) - $2::bigint * interval '1 millisecond' AS at
),
due AS (
  SELECT j.key_id, j.epoch
  FROM stratus_leadership_journal AS j, horizon AS h
  WHERE j.acquired_at < h.at
    AND j.ended_at IS NOT NULL
    AND j.ended_at < h.at
    AND j.epoch < (SELECT max(m.epoch) FROM stratus_leadership_journal AS m WHERE m.key_id = j.key_id)
  ORDER BY j.acquired_at
  LIMIT $3::integer
),
gone AS (
  DELETE FROM stratus_leadership_journal AS j
  USING due AS d
  WHERE j.key_id = d.key_id AND j.epoch = d.epoch
  RETURNING 1
)
SELECT count(*)::integer AS removed FROM gone
