-- A process tells the revoker it has dropped a key from its cache: payload `<instance>:<key id>`.
SELECT pg_notify('stratus_api_keys_ack', $1)
