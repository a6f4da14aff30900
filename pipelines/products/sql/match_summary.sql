-- What one product_matches run did (read before commit, while the staging tables exist).
SELECT count(*) AS listings,
       count(DISTINCT product_key) AS products,
       count(*) FILTER (WHERE method = 'gtin') AS by_gtin,
       count(*) FILTER (WHERE method = 'mpn') AS by_mpn,
       count(*) FILTER (WHERE method = 'rules') AS by_rules,
       count(*) FILTER (WHERE method = 'title') AS by_title,
       count(*) FILTER (WHERE method = 'manual') AS by_decision,
       count(*) FILTER (WHERE method = 'new') AS founded,
       (SELECT count(*) FROM products) AS products_total
FROM staged_matches
