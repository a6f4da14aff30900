-- Listings of one (vendor, day) partition that are new or changed that day (a price observation)
-- and still live, with whether that day is their first sighting.
-- The earlier sighting is looked for from the day before the listing's first_seen_at (the listings
-- step derives it from the first sighting, whose seen_at falls on its day) so that only the months
-- between its first sighting and this day are probed, not every older month partition.
SELECT l.id, v.name AS vendor, l.title, l.price, l.currency, l.condition, l.location, l.product_id, l.url,
       NOT EXISTS (SELECT 1 FROM listing_sightings e
                   WHERE e.listing_id = l.id AND e.partition_date < s.partition_date
                     AND e.partition_date >= CAST((l.first_seen_at AT TIME ZONE 'UTC') AS date) - 1) AS first_seen
FROM listing_sightings s
JOIN listings l ON l.id = s.listing_id
JOIN vendors v ON v.id = l.vendor_id
WHERE s.vendor_id = :vendor_id AND s.partition_date = :day
  AND NOT l.is_sold AND NOT l.is_removed
  AND EXISTS (SELECT 1 FROM price_observations p WHERE p.listing_id = s.listing_id AND p.observed_date = :day);
