SELECT stats_date AS day, count(*) AS queries, sum(searches) AS searches,
       count(*) FILTER (WHERE zero_result_searches > 0) AS zero_result_queries,
       sum(cache_hits) AS cache_hits,
       (SELECT count(*) FROM tracked_product_prices t WHERE t.stats_date = q.stats_date) AS tracked_products
FROM search_query_stats q
WHERE stats_date >= CAST(:start AS date) AND stats_date < CAST(:end AS date)
GROUP BY stats_date ORDER BY stats_date;
