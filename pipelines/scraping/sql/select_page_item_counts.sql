-- Items seen per page of a search, from its page_fetched events.
SELECT (data->>'page')::int AS page, coalesce((data->>'items')::int, 0) AS items
FROM search_events WHERE search_id = :search_id AND event_type = 'page_fetched';
