-- The day's heaviest API users.
SELECT us.username, d.keys, d.requests, d.searches, d.pages, d.compute_units
FROM api_usage_daily d JOIN users us ON us.id = d.user_id
WHERE d.usage_date = CAST(:day AS date)
ORDER BY d.compute_units DESC, d.requests DESC, us.username
LIMIT 20;
