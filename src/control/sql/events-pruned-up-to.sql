-- The highest event id retention has removed (0 when none): a cursor below it has lost events.
SELECT up_to FROM stratus_events_pruned
