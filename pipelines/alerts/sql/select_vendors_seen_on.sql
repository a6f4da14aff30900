-- Every (day, vendor) partition with sightings on the given days.
SELECT DISTINCT s.partition_date, v.name FROM listing_sightings s JOIN vendors v ON v.id = s.vendor_id
WHERE s.partition_date = ANY(:days);
