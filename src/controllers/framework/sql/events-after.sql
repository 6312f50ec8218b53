-- Events after a position, for waking controllers only (ids and kinds, no bodies). Ids are drawn
-- before commit, so one committed late may be skipped: a controller's resync covers it.
SELECT id, kind FROM stratus_events WHERE id > $1 ORDER BY id LIMIT $2
