-- Empty one (vendor, day) partition of the archive for a new fetch of :queries, except the
-- searches in :keep (they are rewritten in place by update_search): deleting a search cascades to
-- its captures, events and search results. The kept searches lose their captures and fetch
-- timeline but keep their search results and parse report, which belong to the published listings
-- partition: those change only when the listings step publishes again, so a re-fetch whose parse
-- fails its audits leaves the day's published positions as they were.
-- A scheduled fetch (:on_demand false) replaces the whole partition except what on-demand searches
-- of other queries archived (request_id set); an on-demand fetch replaces its own queries only.
DELETE FROM searches
WHERE vendor_id = :vendor_id AND partition_date = :partition_date AND NOT id = ANY(CAST(:keep AS bigint[]))
  AND (query = ANY(CAST(:queries AS text[])) OR (NOT :on_demand AND request_id IS NULL));
DELETE FROM raw_captures
WHERE vendor_id = :vendor_id AND partition_date = :partition_date
  AND (search_id = ANY(CAST(:keep AS bigint[])) OR (search_id IS NULL AND NOT :on_demand));
DELETE FROM search_events
WHERE search_id = ANY(CAST(:keep AS bigint[])) AND event_type <> 'parse_report';
