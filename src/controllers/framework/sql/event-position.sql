-- The highest event id drawn so far (0 before the first): where a wake source starts reading.
SELECT CASE WHEN is_called THEN last_value ELSE 0 END AS high FROM stratus_events_id_seq
