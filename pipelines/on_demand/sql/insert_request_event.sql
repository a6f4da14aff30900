INSERT INTO search_request_events (request_id, vendor, event_type, data)
VALUES (:request_id, :vendor, :event_type, CAST(:data AS jsonb))
RETURNING id;
