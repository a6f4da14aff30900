-- One day's sightings of every vendor: the 50 days' cohorts of listings alive on day :n. A price
-- moves every 5 days ((n + k) / 5), so about one sighting in five is a price change.
INSERT INTO listing_sightings (listing_id, vendor_id, partition_date, seen_at, price, currency, price_kind,
                               is_sold, title)
SELECT v * 100000000 + k, v, DATE '2000-01-01' + :n, DATE '2000-01-01' + :n + time '12:00',
       100 + k % 13 + ((:n + k) / 5) % 3, 'EUR', 'priced', false, 'item ' || k
FROM generate_series(1, :vendors) v,
     generate_series((:n - 49) * :per_day_new, (:n + 1) * :per_day_new - 1) k
WHERE k >= 0;
-- Price history: the first sighting, and each day the price moved.
INSERT INTO price_observations (listing_id, observed_at, observed_date, price, currency)
SELECT v * 100000000 + k, DATE '2000-01-01' + :n + time '12:00', DATE '2000-01-01' + :n,
       100 + k % 13 + ((:n + k) / 5) % 3, 'EUR'
FROM generate_series(1, :vendors) v,
     generate_series((:n - 49) * :per_day_new, (:n + 1) * :per_day_new - 1) k
WHERE k >= 0 AND (k / :per_day_new = :n OR (:n + k) % 5 = 0);
-- The day's searches (one a vendor).
INSERT INTO searches (vendor_id, partition_date, query, status, started_at)
SELECT v, DATE '2000-01-01' + :n, 'q', 'success', DATE '2000-01-01' + :n + time '12:00'
FROM generate_series(1, :vendors) v;
