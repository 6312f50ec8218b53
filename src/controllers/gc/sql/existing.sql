-- Which of the resource ids $1 a resource still has.
SELECT id FROM stratus_resources WHERE id = ANY($1::text[])
