-- The highest event id drawn so far, committed or not (0 before the first). Read before the
-- snapshot of event-snapshot.sql: every writer holding an id up to this one already has its
-- transaction id, so that snapshot's xmax is above it.
SELECT CASE WHEN is_called THEN last_value ELSE 0 END AS high FROM stratus_events_id_seq
