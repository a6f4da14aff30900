INSERT INTO search_events (search_id, vendor_id, event_type, data)
VALUES (:search_id, :vendor_id, :event_type, CAST(:data AS jsonb));
