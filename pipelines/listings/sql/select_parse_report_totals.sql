-- Items that failed to parse and unparseable pages, summed over the partition's parse reports.
SELECT coalesce(sum(CAST(e.data ->> 'item_failure_count' AS integer)), 0) AS failures,
       coalesce(sum(jsonb_array_length(coalesce(e.data -> 'page_errors', '[]'::jsonb))), 0) AS page_errors
FROM search_events e JOIN searches s ON s.id = e.search_id
WHERE s.vendor_id = :vendor_id AND s.partition_date = :day AND e.event_type = 'parse_report';
