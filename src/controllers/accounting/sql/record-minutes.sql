-- One bounded batch of the accounting pass, in the pass's fenced transaction. Minutes are
-- [start, start + length), aligned to the length since the Unix epoch; a resource owes every
-- minute from the one holding its creation to the one holding its deletion, once that minute is
-- over ($1: the pass's clock, NULL for the database's). For up to $3 due lifetimes it inserts up
-- to $4 minutes each from the watermark on, and moves the watermark past them in the same
-- statement: a minute and the watermark beyond it commit together or not at all.
--   $2 minute length (ms)   $5 the term's epoch   $6, $7, $8 the price list: kind, size, price
-- A minute written twice is not silently dropped: it bumps `writes`, which the audit reports.
WITH params AS (
  SELECT to_timestamp(floor(extract(epoch FROM coalesce($1::timestamptz, now())) * 1000 / $2) * $2 / 1000.0) AS cutoff,
         make_interval(secs => $2 / 1000.0) AS len
), candidates AS (
  -- The due lifetimes, each through its own index: behind the current minute, or deleted and
  -- not yet closed.
  (SELECT resource_id FROM stratus_usage_lifetimes
   WHERE NOT done AND next_minute < (SELECT cutoff FROM params)
   ORDER BY next_minute, resource_id LIMIT $3)
  UNION
  (SELECT resource_id FROM stratus_usage_lifetimes WHERE NOT done AND deleted_at IS NOT NULL LIMIT $3)
), due AS (
  SELECT l.resource_id, l.tenant, l.kind, l.size, l.deleted_at,
         CASE WHEN l.next_minute = '-infinity'
              THEN to_timestamp(floor(extract(epoch FROM l.created_at) * 1000 / $2) * $2 / 1000.0)
              ELSE l.next_minute END AS first,
         CASE WHEN l.deleted_at IS NULL THEN p.cutoff
              ELSE least(p.cutoff, to_timestamp(ceil(extract(epoch FROM l.deleted_at) * 1000 / $2) * $2 / 1000.0))
         END AS stop,
         to_timestamp(ceil(extract(epoch FROM l.deleted_at) * 1000 / $2) * $2 / 1000.0) AS ends
  FROM stratus_usage_lifetimes l, params p
  WHERE l.resource_id IN (SELECT resource_id FROM candidates) AND NOT l.done
  ORDER BY l.next_minute, l.resource_id
  LIMIT $3
  FOR UPDATE OF l
), bounded AS (
  SELECT d.*, greatest(d.first, least(d.stop, d.first + p.len * $4)) AS upto
  FROM due d, params p
), minutes AS (
  SELECT b.resource_id, m AS minute, b.tenant, b.kind, b.size
  FROM bounded b, params p, generate_series(b.first, b.upto - p.len, p.len) AS m
  WHERE b.upto > b.first
), ins AS (
  INSERT INTO stratus_usage AS u (resource_id, minute, tenant, kind, size, price, minute_ms, epoch)
  SELECT m.resource_id, m.minute, m.tenant, m.kind, m.size, coalesce(pr.price, 0), $2, $5
  FROM minutes m
  LEFT JOIN unnest($6::text[], $7::text[], $8::numeric[]) AS pr(kind, size, price)
    ON pr.kind = m.kind AND pr.size IS NOT DISTINCT FROM m.size
  ON CONFLICT (resource_id, minute) DO UPDATE SET writes = u.writes + 1
  RETURNING (xmax = 0) AS inserted
), moved AS (
  UPDATE stratus_usage_lifetimes l
  SET next_minute = b.upto,
      done = b.ends IS NOT NULL AND b.upto >= b.ends
  FROM bounded b
  WHERE l.resource_id = b.resource_id
  RETURNING l.resource_id
)
SELECT (SELECT count(*) FROM moved)::integer AS lifetimes,
       (SELECT count(*) FILTER (WHERE inserted) FROM ins)::integer AS inserted,
       (SELECT count(*) FILTER (WHERE NOT inserted) FROM ins)::integer AS rewritten,
       (SELECT count(*) FROM bounded WHERE upto < stop)::integer AS behind,
       (SELECT extract(epoch FROM cutoff) * 1000 FROM params)::double precision AS cutoff_ms,
       (SELECT extract(epoch FROM min(upto)) * 1000 FROM bounded WHERE upto < stop)::double precision AS oldest_ms
