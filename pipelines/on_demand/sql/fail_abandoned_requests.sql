-- Requests still running long after any search could (a vendor's crawl stops at 120 s, its lock
-- wait at 20 s): their process stopped during the search. They end failed, with a done event, so
-- their event streams end and an identical search is no longer answered from them.
WITH abandoned AS (
    UPDATE search_requests
    SET status = 'failed', completed_at = now(),
        error = 'the server stopped during the search; search again'
    WHERE status = 'running' AND created_at < now() - make_interval(mins => :after_minutes)
    RETURNING id
)
INSERT INTO search_request_events (request_id, event_type, data)
SELECT id, 'done', jsonb_build_object('status', 'failed', 'error', 'the server stopped during the search',
                                      'pages', 0, 'results', 0)
FROM abandoned;
