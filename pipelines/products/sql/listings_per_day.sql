-- Listings seen per day of the window that are matched to a product.
SELECT s.partition_date AS day, count(*) AS listings
FROM listing_sightings s
JOIN listings l ON l.id = s.listing_id
WHERE s.partition_date >= CAST(:start AS date) AND s.partition_date < CAST(:end AS date)
  AND l.product_id IS NOT NULL
GROUP BY s.partition_date;
