-- Success rate per vendor over the trailing :days days (for the chart).
SELECT v.name, p.date, p.success_rate
FROM vendor_performance p JOIN vendors v ON v.id = p.vendor_id
WHERE p.date > CAST(:day AS date) - CAST(:days AS integer) AND p.date <= CAST(:day AS date)
ORDER BY v.name, p.date;
