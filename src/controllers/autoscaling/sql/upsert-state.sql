-- The state of group $1 after a pass, in the term's fenced transaction ($5 its epoch).
INSERT INTO stratus_autoscaling (group_id, desired, spec_generation, last_scaled_at, epoch)
VALUES ($1, $2, $3, to_timestamp($4 / 1000.0), $5)
ON CONFLICT (group_id) DO UPDATE
SET desired = EXCLUDED.desired, spec_generation = EXCLUDED.spec_generation,
    last_scaled_at = EXCLUDED.last_scaled_at, epoch = EXCLUDED.epoch
