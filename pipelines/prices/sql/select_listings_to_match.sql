-- Listings seen in the window (one row each), with what identity is derived from.
SELECT l.id, v.name AS vendor, l.title, l.product_code, l.condition, l.product_id
FROM listings l
JOIN vendors v ON v.id = l.vendor_id
WHERE l.id IN (
    SELECT listing_id FROM listing_sightings
    WHERE partition_date >= CAST(:start AS date) AND partition_date < CAST(:end AS date)
)
ORDER BY l.id;
