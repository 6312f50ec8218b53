-- The autoscaling controller's state of the groups $1.
SELECT group_id, desired, spec_generation, (extract(epoch FROM last_scaled_at) * 1000)::double precision AS last_scaled_ms
FROM stratus_autoscaling
WHERE group_id = ANY ($1::text[])
