-- Per day of the window: users, requests, searches, pages and compute units written.
SELECT usage_date AS day, count(*) AS users, sum(requests) AS requests, sum(searches) AS searches,
       sum(pages) AS pages, sum(compute_units) AS compute_units
FROM api_usage_daily
WHERE usage_date >= CAST(:start AS date) AND usage_date < CAST(:end AS date)
GROUP BY usage_date
ORDER BY usage_date;
