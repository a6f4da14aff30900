-- Days :first_n .. :last_n of history (day numbers from 2000-01-01), one month partition at a time:
-- each vendor's searches, and every vendor's sightings of the 50 days' cohorts of listings alive
-- on each day, rows in day order (as daily writes leave them). A price moves every 5 days
-- ((n + k) / 5), so about one sighting in five is a price change.
INSERT INTO searches (vendor_id, partition_date, query, status, started_at)
SELECT v, DATE '2000-01-01' + n, 'q', 'success', DATE '2000-01-01' + n + time '12:00'
FROM generate_series(CAST(:first_n AS integer), CAST(:last_n AS integer)) n, generate_series(1, :vendors) v;
INSERT INTO listing_sightings (listing_id, vendor_id, partition_date, seen_at, price, currency, price_kind,
                               is_sold, title)
SELECT v * 100000000 + k, v, DATE '2000-01-01' + n, DATE '2000-01-01' + n + time '12:00',
       100 + k % 13 + ((n + k) / 5) % 3, 'EUR', 'priced', false, 'item ' || k
FROM generate_series(CAST(:first_n AS integer), CAST(:last_n AS integer)) n,
     generate_series(1, :vendors) v,
     generate_series(greatest(0, (n - 49) * :per_day_new), (n + 1) * :per_day_new - 1) k;
-- Price history: the first sighting, and each day the price moved.
INSERT INTO price_observations (listing_id, observed_at, observed_date, price, currency)
SELECT v * 100000000 + k, DATE '2000-01-01' + n + time '12:00', DATE '2000-01-01' + n,
       100 + k % 13 + ((n + k) / 5) % 3, 'EUR'
FROM generate_series(CAST(:first_n AS integer), CAST(:last_n AS integer)) n,
     generate_series(1, :vendors) v,
     generate_series(greatest(0, (n - 49) * :per_day_new), (n + 1) * :per_day_new - 1) k
WHERE k / :per_day_new = n OR (n + k) % 5 = 0;
