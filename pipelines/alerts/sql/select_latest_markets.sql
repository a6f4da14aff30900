-- Each product's latest market value on or before :as_of, per currency.
SELECT DISTINCT ON (product_id, currency) product_id, currency, market_value, sample_size, snapshot_date
FROM price_snapshots
WHERE product_id = ANY(:ids) AND snapshot_date <= :as_of AND market_value IS NOT NULL
ORDER BY product_id, currency, snapshot_date DESC;
