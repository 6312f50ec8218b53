-- The resources of the kinds $2 that may name one of the load balancers $1, not being deleted: a
-- group's or deployment's spec.loadBalancer.id, a cluster's outputs.loadBalancer. A superset:
-- lb-sync's attachmentOf decides; where it reads a load balancer from, this must look too.
SELECT id, tenant, kind, name, labels, spec, status, generation, resource_version, created_at, updated_at, deletion_requested_at, owner_id
FROM stratus_resources
WHERE kind = ANY ($2::text[])
  AND deletion_requested_at IS NULL
  AND (spec -> 'loadBalancer' ->> 'id' = ANY ($1::text[])
       OR status -> 'outputs' ->> 'loadBalancer' = ANY ($1::text[]))
ORDER BY id
