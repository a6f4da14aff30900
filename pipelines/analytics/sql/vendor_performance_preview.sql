SELECT v.name, p.total_searches, p.success_rate, p.error_count, p.total_listings, p.new_listings, p.sold_listings,
       p.removed_listings, round(CAST(p.avg_duration_ms AS numeric)) AS avg_ms,
       round(CAST(p.p95_duration_ms AS numeric)) AS p95_ms, p.requests, p.bytes, p.cache_hits, p.compute_units
FROM vendor_performance p JOIN vendors v ON v.id = p.vendor_id
WHERE p.date = CAST(:day AS date)
ORDER BY v.name;
