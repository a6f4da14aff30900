-- The listings the vendor published on days in [:since, :partition_date), and how many of them
-- have each field that may be empty (in their current state: what the last published parse found).
WITH recent AS (
    SELECT DISTINCT listing_id FROM listing_sightings
    WHERE vendor_id = :vendor_id AND partition_date >= :since AND partition_date < :partition_date
)
SELECT count(*) AS listings,
       count(l.url) AS url, count(l.condition) AS condition, count(l.location) AS location,
       count(l.seller) AS seller, count(l.product_code) AS product_code,
       count(*) FILTER (WHERE EXISTS (SELECT 1 FROM listing_images i WHERE i.listing_id = l.id)) AS images,
       count(*) FILTER (WHERE EXISTS (SELECT 1 FROM listing_attributes a WHERE a.listing_id = l.id)) AS attributes
FROM recent r JOIN listings l ON l.id = r.listing_id;
