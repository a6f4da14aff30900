-- The ten listings of the partition seen first most recently (the asset's preview table).
SELECT l.external_id, l.title, l.price, l.currency, l.is_sold
FROM listing_sightings s JOIN listings l ON l.id = s.listing_id
WHERE s.vendor_id = :vendor_id AND s.partition_date = :partition_date
ORDER BY l.first_seen_at DESC, l.external_id LIMIT 10;
