-- Events after a position, for waking controllers only: each event's id, kind, resource and the
-- resource's owner (of the row after the write, before it for Deleted), no bodies otherwise. Ids
-- are drawn before commit, so one committed late may be skipped: a controller's resync covers it.
SELECT id, kind, resource_id, resource ->> 'owner_id' AS owner_id
FROM stratus_events WHERE id > $1 ORDER BY id LIMIT $2
