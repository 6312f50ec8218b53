-- create($1 client token, $2 fencing token, $3 node, $4 attempt, $5 fencing on): the effect.
-- It is NOT deduplicated here: every accepted create is one effect, so a job run twice shows
-- twice. The lease is read and share-locked in the same statement, as in observe.sql.
WITH lease AS (
  SELECT 1
  FROM stratus_ledger
  WHERE job_key = $1::text AND token = $2::bigint AND state = 'running' AND lease_expires_at > now()
  FOR SHARE
), checked AS (
  SELECT EXISTS (SELECT 1 FROM lease) AS live
)
INSERT INTO fake_audit (op, client_token, fencing_token, node, attempt, lease_live, accepted)
SELECT 'create', $1::text, $2::bigint, $3::text, $4::integer, live, live OR NOT $5::boolean
FROM checked
RETURNING accepted
