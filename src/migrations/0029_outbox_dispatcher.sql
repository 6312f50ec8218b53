-- Who marked an outbox row dispatched before putting it on the queue: the relay's session name
-- (application_name, `stratus:<node>`), cleared once a dispatch is known to have reached the
-- queue. A relay killed between its claim and its add leaves rows the queue never got; when no
-- session of that name is left, the sweeper sends them again within a second or so instead of
-- after its grace.
ALTER TABLE stratus_outbox ADD COLUMN dispatched_by text;
