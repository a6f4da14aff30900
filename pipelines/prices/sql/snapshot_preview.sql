-- The last day of the window: the products with the most offers.
SELECT p.name, s.currency, s.sample_size, s.min_price, s.quick_sale, s.fmv_low, s.market_value, s.fmv_high,
       s.patient_sale, s.max_price, s.volume_confidence
FROM price_snapshots s
JOIN products p ON p.id = s.product_id
WHERE s.snapshot_date = CAST(:day AS date)
ORDER BY s.sample_size DESC, p.name, s.currency
LIMIT 15;
