-- The searches one (vendor, day) partition archived before, oldest first.
SELECT id, query FROM searches
WHERE vendor_id = :vendor_id AND partition_date = :partition_date
ORDER BY id;
