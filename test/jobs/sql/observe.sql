-- observe($1 client token, $2 fencing token, $3 node, $4 attempt, $5 fencing on): whether the
-- effect of this client token exists. The lease is read, and share-locked while this call
-- commits, in the same statement: a takeover of the job waits for the call to finish.
WITH lease AS (
  SELECT 1
  FROM stratus_ledger
  WHERE job_key = $1::text AND token = $2::bigint AND state = 'running' AND lease_expires_at > now()
  FOR SHARE
), checked AS (
  SELECT EXISTS (SELECT 1 FROM lease) AS live,
         EXISTS (SELECT 1 FROM fake_audit WHERE client_token = $1::text AND op = 'create' AND accepted) AS found
)
INSERT INTO fake_audit (op, client_token, fencing_token, node, attempt, lease_live, accepted, found)
SELECT 'observe', $1::text, $2::bigint, $3::text, $4::integer, live, live OR NOT $5::boolean, found
FROM checked
RETURNING accepted, found
