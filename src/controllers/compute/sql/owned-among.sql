-- Which of the resources $1 an owner of one of the kinds $2 owns.
SELECT c.id
FROM stratus_resources c
JOIN stratus_resources o ON o.id = c.owner_id
WHERE c.id = ANY ($1::text[]) AND o.kind = ANY ($2::text[])
