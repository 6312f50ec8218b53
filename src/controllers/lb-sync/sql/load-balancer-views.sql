-- What lb-sync reads of the load balancers (every one when $1 is null, else those with the ids
-- $1), of every tenant, by id: whose each is, its generation and its targets, not its whole row
-- (a fifth of the cost: a balancer's status lists every target's health).
SELECT id, tenant, generation, deletion_requested_at IS NOT NULL AS deleting, spec -> 'targets' AS targets
FROM stratus_resources
WHERE kind = 'load-balancers' AND ($1::text[] IS NULL OR id = ANY ($1::text[]))
ORDER BY id
