-- A new on-demand search, running from now.
INSERT INTO search_requests (user_id, api_key_id, query, query_key, vendors, status)
VALUES (:user_id, :api_key_id, :query, :query_key, CAST(:vendors AS text[]), 'running')
RETURNING id;
