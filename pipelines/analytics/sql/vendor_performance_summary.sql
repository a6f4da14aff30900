SELECT date AS day, count(*) AS vendors, sum(total_searches) AS searches, sum(error_count) AS errors,
       sum(compute_units) AS compute_units
FROM vendor_performance
WHERE date >= CAST(:start AS date) AND date < CAST(:end AS date)
GROUP BY date ORDER BY date;
