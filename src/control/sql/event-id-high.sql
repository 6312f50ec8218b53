-- The highest event id drawn so far, committed or not (0 before the first). Read before the
-- writers of event-writers.sql: every writer holding an id up to this one took the writers' lock
-- before it drew it, so it is either finished or one of them.
SELECT CASE WHEN is_called THEN last_value ELSE 0 END AS high FROM stratus_events_id_seq
