-- How many sessions listen for key revocations now: the acknowledgements a revoker waits for.
-- A listening session runs nothing after its LISTEN, so its last statement names the channel.
SELECT count(*)::int AS n FROM pg_stat_activity
WHERE datname = current_database() AND query = 'LISTEN "stratus_api_keys"'
