-- Listings seen in the window (one row each), with what identity is derived from: the title,
-- vendor fields (product code, condition; mpn / gtin / brand kept as listing attributes), the
-- product they are on and the signature they were matched under.
SELECT l.id, v.name AS vendor, l.title, l.product_code, l.condition, l.product_id, l.match_signature,
       (SELECT a.value FROM listing_attributes a WHERE a.listing_id = l.id AND a.key = 'mpn') AS mpn,
       (SELECT a.value FROM listing_attributes a WHERE a.listing_id = l.id AND a.key = 'gtin') AS gtin,
       (SELECT a.value FROM listing_attributes a WHERE a.listing_id = l.id AND a.key = 'brand') AS brand,
       d.product_key AS pinned_key
FROM listings l
JOIN vendors v ON v.id = l.vendor_id
LEFT JOIN product_decisions d ON d.listing_id = l.id
WHERE l.id IN (
    SELECT listing_id FROM listing_sightings
    WHERE partition_date >= CAST(:start AS date) AND partition_date < CAST(:end AS date)
)
ORDER BY l.id
