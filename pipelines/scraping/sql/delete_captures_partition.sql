-- Empty one (vendor, day) partition of the archive. Deleting its searches cascades to their
-- captures, events and search results; captures left without a search go too.
DELETE FROM searches WHERE vendor_id = :vendor_id AND partition_date = :partition_date;
DELETE FROM raw_captures WHERE vendor_id = :vendor_id AND partition_date = :partition_date;
