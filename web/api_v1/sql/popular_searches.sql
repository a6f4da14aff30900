-- The tracked queries searched most over the trailing :days days (search_query_stats rollup).
SELECT query, sum(searches) AS searches, sum(zero_result_searches) AS zero_result_searches,
       sum(listings_found) AS listings_found, sum(cache_hits) AS cache_hits, max(vendors) AS vendors,
       max(stats_date) AS last_searched
FROM search_query_stats
WHERE stats_date > current_date - CAST(:days AS integer)
GROUP BY query
ORDER BY sum(searches) DESC, query
LIMIT CAST(:limit AS integer)
