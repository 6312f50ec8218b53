-- What the healing controller did to instance $1, in the term's fenced transaction ($7 its epoch).
INSERT INTO stratus_healing (resource_id, window_start, restarts, next_at, last_action, last_at, epoch)
VALUES ($1, to_timestamp($2 / 1000.0), $3, to_timestamp($4 / 1000.0), $5, to_timestamp($6 / 1000.0), $7)
ON CONFLICT (resource_id) DO UPDATE
SET window_start = EXCLUDED.window_start, restarts = EXCLUDED.restarts, next_at = EXCLUDED.next_at,
    last_action = EXCLUDED.last_action, last_at = EXCLUDED.last_at, epoch = EXCLUDED.epoch
