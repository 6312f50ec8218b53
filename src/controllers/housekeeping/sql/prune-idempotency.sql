-- Removes up to $2 idempotency records expired at the reference time $1 (ms), never ahead of
-- the database's clock, which the claim judges expiry by. A record a request is taking over
-- right now is locked: skipped, and the delete re-checks the expiry on the row it deletes.
WITH at AS (
  SELECT least(to_timestamp($1::double precision / 1000), now()) AS t
),
due AS (
  SELECT i.tenant, i.key
  FROM stratus_idempotency AS i, at
  WHERE i.expires_at <= at.t
  ORDER BY i.expires_at
  LIMIT $2::integer
  FOR UPDATE OF i SKIP LOCKED
),
gone AS (
  DELETE FROM stratus_idempotency AS i
  USING due AS d, at
  WHERE i.tenant = d.tenant AND i.key = d.key AND i.expires_at <= at.t
  RETURNING 1
)
SELECT count(*)::integer AS removed FROM gone
