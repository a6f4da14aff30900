SELECT id, user_id, api_key_id, query, vendors, status, pages, results, error, created_at, completed_at
FROM search_requests WHERE id = :id;
