-- Forgets the state of groups that no longer exist.
DELETE FROM stratus_autoscaling a
WHERE NOT EXISTS (SELECT 1 FROM stratus_resources r WHERE r.id = a.group_id)
