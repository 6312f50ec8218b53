-- Every recorded minute, for the audit.
SELECT resource_id, (extract(epoch FROM minute) * 1000)::double precision AS minute, writes FROM stratus_usage
