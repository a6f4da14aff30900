-- Listings seen in the window that need matching: not on a product yet, pinned by a decision,
-- or changed since they were matched (their signature: the rules version and the identity
-- fields - title, vendor, product code, condition, and the mpn / gtin / brand attributes).
-- With :all, every listing of the window.
WITH seen AS (
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
),
signed AS (
    SELECT seen.*, md5(concat_ws(chr(31), CAST(:rules AS text), title, vendor, coalesce(product_code, ''),
                                 coalesce(condition, ''), coalesce(mpn, ''), coalesce(gtin, ''),
                                 coalesce(brand, ''))) AS signature
    FROM seen
)
SELECT * FROM signed
WHERE CAST(:all AS boolean) OR product_id IS NULL OR pinned_key IS NOT NULL
   OR match_signature IS DISTINCT FROM signature
ORDER BY id
