-- Listings born on days :first_n - 49 .. :last_n (day numbers from 2000-01-01): :per_day_new a day per
-- vendor, listing k born on day k / :per_day_new, sighted on 50 days from then. Ids are
-- vendor * 10^8 + k, so sightings need no join to find them; :final_n is the last day of the history.
-- Their sold/removed state is what the listings writes would have left (every day is a complete
-- scrape, removal after 2 missed): removed on the second day after the last sighting, missed_scrapes
-- counted up to 2.
INSERT INTO listings (id, vendor_id, external_id, product_id, title, price, currency, price_kind, first_seen_at,
                      last_seen_at, missed_scrapes, is_removed, removed_at)
OVERRIDING SYSTEM VALUE
SELECT v * 100000000 + k, v, 'L' || k, 1 + (k * 7 + v) % :products, 'item ' || k,
       100 + k % 13 + ((last.n + k) / 5) % 3, 'EUR', 'priced',
       DATE '2000-01-01' + k / :per_day_new + time '12:00',
       DATE '2000-01-01' + last.n + time '12:00',
       least(CAST(:final_n AS integer) - last.n, 2), last.n + 2 <= :final_n,
       CASE WHEN last.n + 2 <= :final_n THEN (DATE '2000-01-01' + last.n + 2)::timestamp AT TIME ZONE 'UTC' END
FROM generate_series(1, :vendors) v,
     generate_series(greatest(0, (:first_n - 49) * :per_day_new), (:last_n + 1) * :per_day_new - 1) k
     CROSS JOIN LATERAL (SELECT least(k / :per_day_new + 49, :final_n) AS n) last
ON CONFLICT DO NOTHING;
