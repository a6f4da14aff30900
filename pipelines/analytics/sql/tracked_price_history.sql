-- Median offered price of the most visible products (appearances over the trailing :days days).
WITH recent AS (
    SELECT * FROM tracked_product_prices
    WHERE stats_date > CAST(:day AS date) - CAST(:days AS integer) AND stats_date <= CAST(:day AS date)
),
top AS (
    SELECT product_id, currency, sum(appearances) AS seen
    FROM recent GROUP BY product_id, currency
    ORDER BY sum(appearances) DESC, product_id, currency
    LIMIT CAST(:top AS integer)
)
SELECT p.name, t.currency, t.seen, r.stats_date, r.median_price, r.min_price, r.appearances
FROM top t
JOIN recent r USING (product_id, currency)
JOIN products p ON p.id = t.product_id
ORDER BY t.seen DESC, t.product_id, t.currency, r.stats_date;
