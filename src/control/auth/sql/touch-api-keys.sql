-- Records when keys were last used (a batch from one process's memory, never per request).
UPDATE stratus_api_keys SET last_used_at = greatest(coalesce(last_used_at, $2), $2)
WHERE id = ANY($1::text[])
