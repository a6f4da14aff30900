-- Snapshots of the window whose prices are out of order or whose FMV band is missing.
SELECT count(*) AS snapshots,
       count(*) FILTER (WHERE NOT (min_price <= quick_sale AND quick_sale <= fmv_low AND fmv_low <= market_value
                                   AND market_value <= fmv_high AND fmv_high <= patient_sale
                                   AND patient_sale <= max_price)) AS disordered,
       count(*) FILTER (WHERE market_value IS NULL OR fmv_low IS NULL OR fmv_high IS NULL) AS missing,
       array_agg(id ORDER BY id) FILTER (WHERE NOT (fmv_low <= market_value AND market_value <= fmv_high))
           AS examples
FROM price_snapshots
WHERE snapshot_date >= CAST(:start AS date) AND snapshot_date < CAST(:end AS date);
