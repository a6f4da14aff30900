-- Retention: on-demand search requests made before :before go with their timelines (the searches
-- they ran stay in their partitions, which the same retention drops by month).
DELETE FROM search_requests WHERE created_at < CAST(:before AS date);
