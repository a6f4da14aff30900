-- Each user's API use per day of the window, over all of their keys (api_key_usage, counted by the
-- front door per key and day).
INSERT INTO api_usage_daily (usage_date, user_id, keys, requests, searches, pages, compute_units)
SELECT u.usage_date, k.user_id, count(DISTINCT u.api_key_id), sum(u.requests), sum(u.searches), sum(u.pages),
       sum(u.compute_units)
FROM api_key_usage u
JOIN api_keys k ON k.id = u.api_key_id
WHERE u.usage_date >= CAST(:start AS date) AND u.usage_date < CAST(:end AS date)
GROUP BY u.usage_date, k.user_id;
