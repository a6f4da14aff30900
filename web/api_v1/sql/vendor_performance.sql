-- Each vendor's days (vendor_performance rollup) over the trailing :days days, one vendor or all.
SELECT v.name AS vendor, p.date, p.total_searches, p.total_listings, p.new_listings, p.sold_listings,
       p.removed_listings, p.avg_duration_ms, p.p95_duration_ms, p.success_rate, p.error_count, p.cache_hits,
       p.requests, p.bytes, p.compute_units
FROM vendor_performance p JOIN vendors v ON v.id = p.vendor_id
WHERE p.date > current_date - CAST(:days AS integer)
  AND (CAST(:vendor AS text) IS NULL OR v.name = :vendor)
ORDER BY v.name, p.date
