-- One row per day of the window and query searched in the 30 days up to that day (queries
-- compared case-insensitively, trimmed). A zero-result search is one that succeeded and found
-- no listing. Popularity ranks order queries by searches in the trailing window, then by
-- listings found there, then alphabetically (1 = most popular).
INSERT INTO search_query_stats (stats_date, query, searches, vendors, successful_searches, zero_result_searches,
                                listings_found, cache_hits, cache_hit_rate, avg_duration_ms, searches_7d,
                                searches_30d, zero_result_searches_7d, zero_result_searches_30d,
                                popularity_rank_7d, popularity_rank_30d)
WITH daily AS (
    SELECT partition_date AS day, lower(btrim(query)) AS query, count(*) AS searches,
           count(DISTINCT vendor_id) AS vendors,
           count(*) FILTER (WHERE status = 'success') AS successful,
           count(*) FILTER (WHERE status = 'success' AND items = 0) AS zero,
           sum(items) AS found, count(*) FILTER (WHERE cache_hit) AS cache_hits, avg(duration_ms) AS avg_ms
    FROM searches
    WHERE partition_date > CAST(:start AS date) - 30 AND partition_date < CAST(:end AS date)
    GROUP BY 1, 2
),
days AS (
    SELECT CAST(d AS date) AS day
    FROM generate_series(CAST(:start AS date), CAST(:end AS date) - 1, interval '1 day') AS d
),
windowed AS (
    SELECT d.day, x.query,
           sum(x.searches) FILTER (WHERE x.day > d.day - 7) AS searches_7d,
           sum(x.found) FILTER (WHERE x.day > d.day - 7) AS found_7d,
           sum(x.zero) FILTER (WHERE x.day > d.day - 7) AS zero_7d,
           sum(x.searches) AS searches_30d, sum(x.found) AS found_30d, sum(x.zero) AS zero_30d
    FROM days d
    JOIN daily x ON x.day > d.day - 30 AND x.day <= d.day
    GROUP BY d.day, x.query
)
SELECT t.day, t.query,
       coalesce(x.searches, 0), coalesce(x.vendors, 0), coalesce(x.successful, 0), coalesce(x.zero, 0),
       coalesce(x.found, 0), coalesce(x.cache_hits, 0),
       CASE WHEN x.searches > 0 THEN round(CAST(x.cache_hits AS numeric) / x.searches, 4) END,
       x.avg_ms,
       coalesce(t.searches_7d, 0), t.searches_30d, coalesce(t.zero_7d, 0), t.zero_30d,
       row_number() OVER (PARTITION BY t.day ORDER BY coalesce(t.searches_7d, 0) DESC,
                          coalesce(t.found_7d, 0) DESC, t.query),
       row_number() OVER (PARTITION BY t.day ORDER BY t.searches_30d DESC, t.found_30d DESC, t.query)
FROM windowed t
LEFT JOIN daily x ON x.day = t.day AND x.query = t.query;
