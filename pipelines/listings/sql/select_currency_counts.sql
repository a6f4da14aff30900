SELECT currency, count(*) AS n FROM listing_sightings
WHERE vendor_id = :vendor_id AND partition_date = :day
GROUP BY currency ORDER BY currency;
