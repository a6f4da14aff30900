DELETE FROM vendor_performance
WHERE date >= CAST(:start AS date) AND date < CAST(:end AS date);
