-- The partition's parse report, attached to its first search.
INSERT INTO search_events (search_id, vendor_id, event_type, data)
SELECT s.id, :vendor_id, 'parse_report', CAST(:data AS jsonb)
FROM searches s WHERE s.vendor_id = :vendor_id AND s.partition_date = :partition_date
ORDER BY s.id LIMIT 1;
