-- Metadata of a price_snapshots run: per day of the window.
SELECT snapshot_date AS day, count(*) AS snapshots, count(DISTINCT product_id) AS products,
       count(DISTINCT currency) AS currencies, coalesce(sum(sample_size), 0) AS offers,
       count(*) FILTER (WHERE volume_confidence = 'high') AS high_confidence
FROM price_snapshots
WHERE snapshot_date >= CAST(:start AS date) AND snapshot_date < CAST(:end AS date)
GROUP BY snapshot_date
ORDER BY snapshot_date;
