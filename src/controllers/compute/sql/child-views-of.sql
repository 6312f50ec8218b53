-- What lb-sync and autoscaling read of the children of the owners $1 (migration 0021): whether
-- each serves and where, its name, not its whole row; by id.
SELECT id, kind, name, owner_id, labels, deletion_requested_at,
       status ->> 'phase' AS phase,
       status -> 'outputs' ->> 'address' AS address,
       status -> 'outputs' ->> 'backendId' AS backend_id
FROM stratus_resources
WHERE owner_id = ANY ($1::text[])
ORDER BY id
