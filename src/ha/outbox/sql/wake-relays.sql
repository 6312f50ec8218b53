-- Wakes the relays after jobs were committed without a NOTIFY of their own (enqueue-quiet.sql).
SELECT pg_notify('stratus_outbox', '') IS NULL AS notified
