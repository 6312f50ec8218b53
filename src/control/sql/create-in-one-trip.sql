-- The common create in one round trip: see stratus_create_resource (migration 0016) for what it
-- does and what each outcome means. No row: the Idempotency-Key is taken, nothing was written.
SELECT created_version, created_answer
FROM stratus_create_resource($1, $2, $3, $4, $5::jsonb, $6::jsonb, $7::jsonb, $8::text[], $9::text[],
                             $10, $11, $12, $13, $14, $15::double precision, $16, $17::text[])
