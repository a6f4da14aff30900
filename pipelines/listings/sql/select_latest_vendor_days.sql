-- Per vendor: the newest day with sightings and the newest day with a successful search.
SELECT v.name,
       (SELECT max(partition_date) FROM listing_sightings s WHERE s.vendor_id = v.id) AS last_sighting,
       (SELECT max(partition_date) FROM searches s WHERE s.vendor_id = v.id AND s.status = 'success')
           AS last_successful_search
FROM vendors v WHERE v.name = ANY(:names) ORDER BY v.name;
