-- A product's daily market (price_snapshots) over the trailing :days days, per currency.
SELECT snapshot_date, currency, market_value, fmv_low, fmv_high, quick_sale, patient_sale, sample_size,
       min_price, max_price, avg_price, volume_confidence
FROM price_snapshots
WHERE product_id = :product_id AND snapshot_date > current_date - CAST(:days AS integer)
ORDER BY snapshot_date, currency
