-- The offers pandas reads for its version of the price_snapshots statistics.
SELECT l.product_id, s.partition_date AS day, s.currency, v.name AS vendor, l.condition, s.price
FROM listing_sightings s JOIN listings l ON l.id = s.listing_id JOIN vendors v ON v.id = s.vendor_id
WHERE s.partition_date >= :start AND s.partition_date < :end
  AND s.price_kind = 'priced' AND s.price IS NOT NULL AND NOT s.is_sold AND l.product_id IS NOT NULL;
