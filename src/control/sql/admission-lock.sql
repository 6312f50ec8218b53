-- Serialises the admission checks of one kind in one tenant (no two networks overlap): held
-- until the writing transaction ends, so the next write of the kind sees this one's row.
-- $1 is `<tenant>/<kind>`; a hash collision only serialises two unrelated pairs.
SELECT pg_advisory_xact_lock(hashtextextended($1, 0))
