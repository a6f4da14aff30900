-- Empty one (vendor, day) partition of the archive, except the searches in :keep (they are
-- rewritten in place by update_search): deleting a search cascades to its captures, events and
-- search results. The kept searches lose their captures and fetch timeline but keep their search
-- results and parse report, which belong to the published listings partition: those change only
-- when the listings step publishes again, so a re-fetch whose parse fails its audits leaves the
-- day's published positions as they were.
DELETE FROM searches
WHERE vendor_id = :vendor_id AND partition_date = :partition_date AND NOT id = ANY(CAST(:keep AS bigint[]));
DELETE FROM raw_captures WHERE vendor_id = :vendor_id AND partition_date = :partition_date;
DELETE FROM search_events
WHERE search_id = ANY(CAST(:keep AS bigint[])) AND event_type <> 'parse_report';
