DELETE FROM search_events e USING searches s
WHERE e.search_id = s.id AND s.vendor_id = :vendor_id AND s.partition_date = :partition_date
  AND e.event_type = 'parse_report';
