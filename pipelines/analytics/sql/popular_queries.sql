-- The day's queries by popularity over the trailing 7 and 30 days.
SELECT query, popularity_rank_7d, searches_7d, popularity_rank_30d, searches_30d, searches, listings_found,
       zero_result_searches, zero_result_searches_7d, cache_hit_rate
FROM search_query_stats
WHERE stats_date = CAST(:day AS date)
ORDER BY popularity_rank_7d
LIMIT 20;
