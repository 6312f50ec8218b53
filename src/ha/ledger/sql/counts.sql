-- The ledger's jobs by state, with live leases apart from expired ones (database time).
SELECT count(*) FILTER (WHERE state = 'running' AND lease_expires_at > now())::integer AS leased,
       count(*) FILTER (WHERE state = 'running' AND lease_expires_at <= now())::integer AS expired,
       count(*) FILTER (WHERE state = 'pending')::integer AS retrying,
       count(*) FILTER (WHERE state = 'failed')::integer AS failed
FROM stratus_ledger
WHERE state IN ('running', 'pending', 'failed')
