-- What one product_matches run did (read before commit, while the staging tables exist).
SELECT count(*) AS listings,
       count(DISTINCT product_key) AS products,
       count(*) FILTER (WHERE method = 'gtin') AS by_gtin,
       count(*) FILTER (WHERE method = 'card_number') AS by_card_number,
       count(*) FILTER (WHERE method = 'title') AS by_title,
       (SELECT count(*) FROM products) AS products_total,
       (SELECT count(*) FROM (
            SELECT m.product_key FROM staged_matches m JOIN listings l ON l.id = m.listing_id
            GROUP BY m.product_key HAVING count(DISTINCT l.vendor_id) > 1) AS x) AS cross_vendor_products
FROM staged_matches;
