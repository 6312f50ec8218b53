-- One scaling decision with its reason, in the term's fenced transaction.
INSERT INTO stratus_scaling_decisions (group_id, at, from_size, to_size, reason, message, epoch)
VALUES ($1, to_timestamp($2 / 1000.0), $3, $4, $5, $6, $7)
