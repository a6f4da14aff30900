-- Positions of a day's searches (the listings step's audits read the last 7 days of them).
INSERT INTO search_results (search_id, listing_id, position, page, partition_date)
SELECT s.id, s.vendor_id * 100000000 + k, k - (:n - 49) * :per_day_new + 1,
       1 + (k - (:n - 49) * :per_day_new) / 20, s.partition_date
FROM searches s, generate_series(greatest(0, (:n - 49) * :per_day_new), (:n + 1) * :per_day_new - 1) k
WHERE s.partition_date = DATE '2000-01-01' + :n;
