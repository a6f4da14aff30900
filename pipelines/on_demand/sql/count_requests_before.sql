SELECT count(*) FROM search_requests WHERE created_at < CAST(:before AS date);
