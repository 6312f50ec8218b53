-- A referenced resource of the same tenant, key-share-locked until the referencing write commits:
-- a delete request on it (which locks the row FOR UPDATE first, then looks for referrers) waits
-- for this transaction and then sees the new referrer; a delete that committed first is seen
-- here, the lock being taken on the newest row version. A key share lock, not a share lock, so
-- that the status writes of the referenced resource (FOR NO KEY UPDATE) do not wait for creates.
SELECT id, kind, deletion_requested_at
FROM stratus_resources
WHERE id = $1 AND tenant = $2
FOR KEY SHARE
