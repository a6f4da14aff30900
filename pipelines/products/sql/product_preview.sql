-- Products of the window's listings with the most listings (and the vendors they span).
SELECT p.name, p.product_key, count(*) AS listings, count(DISTINCT l.vendor_id) AS vendors
FROM listings l
JOIN products p ON p.id = l.product_id
WHERE l.id IN (
    SELECT listing_id FROM listing_sightings
    WHERE partition_date >= CAST(:start AS date) AND partition_date < CAST(:end AS date)
)
GROUP BY p.id, p.name, p.product_key
ORDER BY count(DISTINCT l.vendor_id) DESC, count(*) DESC, p.product_key
LIMIT 15;
