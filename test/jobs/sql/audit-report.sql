-- What the audit says, counted from its rows alone.
SELECT
  count(*)::int AS calls,
  count(*) FILTER (WHERE op = 'create' AND accepted)::int AS effects,
  count(*) FILTER (WHERE NOT lease_live)::int AS dead_lease_calls,
  count(*) FILTER (WHERE NOT lease_live AND accepted)::int AS dead_lease_accepted,
  (SELECT count(*)::int FROM (
     SELECT client_token FROM fake_audit WHERE op = 'create' AND accepted
     GROUP BY client_token HAVING count(*) > 1) AS d) AS keys_with_two_effects,
  (SELECT count(*)::int FROM (
     SELECT fencing_token < lag(fencing_token) OVER (PARTITION BY client_token ORDER BY id) AS back
     FROM fake_audit WHERE accepted) AS r
   WHERE back) AS token_regressions
FROM fake_audit
