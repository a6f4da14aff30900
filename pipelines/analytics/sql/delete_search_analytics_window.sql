DELETE FROM search_query_stats
WHERE stats_date >= CAST(:start AS date) AND stats_date < CAST(:end AS date);
DELETE FROM tracked_product_prices
WHERE stats_date >= CAST(:start AS date) AND stats_date < CAST(:end AS date);
