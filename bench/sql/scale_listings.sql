-- Listings born on days :first_n - 49 .. :last_n (day numbers from 2000-01-01): :per_day_new a day per
-- vendor, listing k born on day k / :per_day_new, sighted on 50 days from then. Ids are
-- vendor * 10^8 + k, so sightings need no join to find them; :final_n is the last day of the history.
INSERT INTO listings (id, vendor_id, external_id, product_id, title, price, currency, price_kind, first_seen_at,
                      last_seen_at)
OVERRIDING SYSTEM VALUE
SELECT v * 100000000 + k, v, 'L' || k, 1 + (k * 7 + v) % :products, 'item ' || k,
       100 + k % 13 + ((least(k / :per_day_new + 49, :final_n) + k) / 5) % 3, 'EUR', 'priced',
       DATE '2000-01-01' + k / :per_day_new + time '12:00',
       DATE '2000-01-01' + least(k / :per_day_new + 49, :final_n) + time '12:00'
FROM generate_series(1, :vendors) v,
     generate_series(greatest(0, (:first_n - 49) * :per_day_new), (:last_n + 1) * :per_day_new - 1) k
ON CONFLICT DO NOTHING;
