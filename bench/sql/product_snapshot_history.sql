-- One product's daily market over 30 days (price_snapshots), as an API would chart it.
SELECT snapshot_date, currency, market_value, fmv_low, fmv_high, sample_size
FROM price_snapshots
WHERE product_id = :product AND snapshot_date > CAST(:day AS date) - 30 AND snapshot_date <= :day
ORDER BY snapshot_date, currency;
