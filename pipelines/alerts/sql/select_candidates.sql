-- Listings of one (vendor, day) partition that are new or changed that day (a price observation)
-- and still live, with whether that day is their first sighting.
-- First sighting: the listings step has just derived first_seen_at from the listing's first
-- sighting (every listing sighted this day went through it), so "no sighting before this day" is
-- "first_seen_at falls on this day", read from the row: no probe of the sightings' month
-- partitions, which the planner would otherwise plan one by one (all of them, the bound being a
-- column) on every call.
SELECT l.id, v.name AS vendor, l.title, l.price, l.currency, l.condition, l.location, l.product_id, l.url,
       CAST((l.first_seen_at AT TIME ZONE 'UTC') AS date) >= s.partition_date AS first_seen
FROM listing_sightings s
JOIN listings l ON l.id = s.listing_id
JOIN vendors v ON v.id = l.vendor_id
WHERE s.vendor_id = :vendor_id AND s.partition_date = :day
  AND NOT l.is_sold AND NOT l.is_removed
  AND EXISTS (SELECT 1 FROM price_observations p WHERE p.listing_id = s.listing_id AND p.observed_date = :day);
