-- Use per key and day over the trailing :days days (one user's keys, or everyone's).
SELECT u.usage_date, k.id AS key_id, k.key_prefix, us.username, k.name, u.requests, u.searches, u.pages,
       u.compute_units
FROM api_key_usage u
JOIN api_keys k ON k.id = u.api_key_id
JOIN users us ON us.id = k.user_id
WHERE u.usage_date > current_date - CAST(:days AS integer)
  AND (CAST(:username AS text) IS NULL OR us.username = :username)
ORDER BY u.usage_date, us.username, k.id
