-- A referenced resource of the same tenant, share-locked until the referencing write commits:
-- a delete request on it (which updates the row first, then looks for referrers) waits for
-- this transaction and then sees the new referrer.
SELECT id, kind, deletion_requested_at
FROM stratus_resources
WHERE id = $1 AND tenant = $2
FOR SHARE
