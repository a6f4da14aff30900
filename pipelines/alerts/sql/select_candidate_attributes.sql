-- Attributes of the listings sighted in one (vendor, day) partition.
SELECT a.listing_id, a.key, a.value
FROM listing_sightings s JOIN listing_attributes a ON a.listing_id = s.listing_id
WHERE s.vendor_id = :vendor_id AND s.partition_date = :day;
