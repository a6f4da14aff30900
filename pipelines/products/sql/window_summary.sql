-- The window's listings after matching: how many products they are on, and how many of those
-- are offered by more than one vendor.
WITH seen AS (
    SELECT l.id, l.product_id, l.vendor_id FROM listings l
    WHERE l.id IN (SELECT listing_id FROM listing_sightings
                   WHERE partition_date >= CAST(:start AS date) AND partition_date < CAST(:end AS date))
)
SELECT count(*) AS listings, count(DISTINCT product_id) AS products,
       (SELECT count(*) FROM (SELECT product_id FROM seen GROUP BY product_id
                              HAVING count(DISTINCT vendor_id) > 1) x) AS cross_vendor_products
FROM seen
