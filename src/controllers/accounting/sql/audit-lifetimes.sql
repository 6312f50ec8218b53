-- Every lifetime, for the audit.
SELECT resource_id, (extract(epoch FROM created_at) * 1000)::double precision AS created_at,
       (extract(epoch FROM deleted_at) * 1000)::double precision AS deleted_at
FROM stratus_usage_lifetimes
