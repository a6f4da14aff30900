-- Search results (parsed items) of one (vendor, day) partition.
SELECT count(*) FROM search_results r JOIN searches s ON s.id = r.search_id
WHERE s.vendor_id = :vendor_id AND s.partition_date = :day;
