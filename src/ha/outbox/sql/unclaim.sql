-- Ends the claim of rows the queue refused, so that the next round takes them again at once.
UPDATE stratus_outbox SET claimed_until = NULL WHERE id = ANY($1::bigint[])
