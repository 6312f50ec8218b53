-- Whether an accepted create for client token $1 came under a fencing token other than $2.
SELECT EXISTS (
  SELECT 1 FROM fake_audit
  WHERE client_token = $1::text AND op = 'create' AND accepted AND fencing_token <> $2::bigint
) AS found
