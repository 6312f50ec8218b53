-- Every controller's last report, by name.
SELECT name, leader, epoch, passes, errors, last_error, last_error_at, pass_started_at, pass_ended_at,
       pass_ms, lag_ms, reported_at
FROM stratus_controllers ORDER BY name
