-- A synthetic market for bench/rollups.py: 3 vendors/currencies, :products products, :listings
-- listings each sighted on :days days from :first_day (~5 % outliers, some sold / on request / free).
INSERT INTO vendors (name, display_name, base_url, currency)
VALUES ('bench_id', 'Bench ID', 'http://127.0.0.1', 'IDR'), ('bench_gt', 'Bench GT', 'http://127.0.0.1', 'GTQ'),
       ('bench_us', 'Bench US', 'http://127.0.0.1', 'USD');
INSERT INTO products (product_key, name)
SELECT 'bench:' || p, 'Bench product ' || p FROM generate_series(1, :products) AS p;
INSERT INTO listings (vendor_id, external_id, product_id, title, price, currency, price_kind, condition,
                      first_seen_at, last_seen_at)
SELECT v.id, 'L' || i, (SELECT min(id) FROM products) + (i * 7919) % :products, 'Bench listing ' || i,
       NULL, v.currency, CASE WHEN i % 41 = 0 THEN 'on_request' WHEN i % 97 = 0 THEN 'free' ELSE 'priced' END,
       (ARRAY['new', 'used', 'refurbished', 'like_new', NULL])[1 + i % 5],
       CAST(:first_day AS date), CAST(:first_day AS date)
FROM generate_series(1, :listings) AS i
JOIN (SELECT id, currency, row_number() OVER (ORDER BY id) - 1 AS k FROM vendors) v ON v.k = i % 3;
INSERT INTO listing_sightings (listing_id, vendor_id, partition_date, seen_at, price, currency, price_kind,
                               is_sold, title)
SELECT l.id, l.vendor_id, CAST(:first_day AS date) + d, CAST(:first_day AS date) + d + time '06:00',
       CASE l.price_kind
           WHEN 'on_request' THEN NULL WHEN 'free' THEN 0
           ELSE round(CAST((50 + (l.id * 37) % 900) * (1 + 0.05 * sin(l.id + d))
                           * CASE WHEN l.id % 20 = 0 THEN 8 ELSE 1 END
                           * CASE l.currency WHEN 'IDR' THEN 15000 WHEN 'GTQ' THEN 7.75 ELSE 1 END AS numeric), 2)
       END,
       l.currency, l.price_kind, (l.id + d) % 53 = 0, l.title
FROM listings l CROSS JOIN generate_series(0, :days - 1) AS d;
ANALYZE;
