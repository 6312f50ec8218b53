-- The cron job of this id in this tenant, if any.
SELECT 1 FROM stratus_resources WHERE id = $1 AND tenant = $2 AND kind = 'cron-jobs'
