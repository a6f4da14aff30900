-- Market value over the trailing :days days of the most-watched products: those with the most
-- offers over that period (one line per product, in its most offered currency).
WITH recent AS (
    SELECT product_id, currency, snapshot_date, market_value, fmv_low, fmv_high, sample_size
    FROM price_snapshots
    WHERE snapshot_date > CAST(:day AS date) - CAST(:days AS integer) AND snapshot_date <= CAST(:day AS date)
),
top AS (
    SELECT product_id, currency, sum(sample_size) AS offers,
           row_number() OVER (PARTITION BY product_id ORDER BY sum(sample_size) DESC, currency) AS n
    FROM recent GROUP BY product_id, currency
),
chosen AS (
    SELECT product_id, currency, offers FROM top WHERE n = 1 ORDER BY offers DESC, product_id LIMIT CAST(:top AS integer)
)
SELECT p.name, c.currency, r.snapshot_date, r.market_value, r.fmv_low, r.fmv_high
FROM chosen c
JOIN recent r USING (product_id, currency)
JOIN products p ON p.id = c.product_id
ORDER BY c.offers DESC, c.product_id, r.snapshot_date;
