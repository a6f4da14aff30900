-- The least any SQL rollup does: count/min/max/avg/median per product, day and currency of the
-- window [:start, :end), into price_snapshots (what the richer statistics are compared with).
DELETE FROM price_snapshots WHERE snapshot_date >= :start AND snapshot_date < :end;
INSERT INTO price_snapshots (product_id, snapshot_date, currency, sample_size, min_price, max_price, avg_price,
                             market_value)
SELECT l.product_id, s.partition_date, s.currency, count(*), min(s.price), max(s.price), round(avg(s.price), 2),
       round(CAST(percentile_cont(0.5) WITHIN GROUP (ORDER BY CAST(s.price AS double precision)) AS numeric), 2)
FROM listing_sightings s JOIN listings l ON l.id = s.listing_id
WHERE s.partition_date >= :start AND s.partition_date < :end
  AND s.price_kind = 'priced' AND s.price IS NOT NULL AND NOT s.is_sold AND l.product_id IS NOT NULL
GROUP BY l.product_id, s.partition_date, s.currency;
