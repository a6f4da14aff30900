-- A request's timeline after event :after, in order (the event stream resumes from Last-Event-ID).
SELECT id, vendor, event_type, data, created_at FROM search_request_events
WHERE request_id = :request_id AND id > :after
ORDER BY id
LIMIT :limit;
