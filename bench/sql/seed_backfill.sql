-- A year of synthetic history for bench/backfill.py: 3 vendors, :products products, :listings
-- listings sighted every day of :days days from :first_day, 3 searches per vendor and day with results.
INSERT INTO vendors (name, display_name, base_url, currency)
VALUES ('bench_id', 'Bench ID', 'http://127.0.0.1', 'IDR'), ('bench_gt', 'Bench GT', 'http://127.0.0.1', 'GTQ'),
       ('bench_us', 'Bench US', 'http://127.0.0.1', 'USD');
INSERT INTO products (product_key, name)
SELECT 'bench:' || p, 'Bench product ' || p FROM generate_series(1, :products) AS p;
INSERT INTO listings (vendor_id, external_id, product_id, title, price, currency, price_kind, condition,
                      first_seen_at, last_seen_at)
SELECT v.id, 'L' || i, (SELECT min(id) FROM products) + (i * 7919) % :products, 'Bench listing ' || i, NULL,
       v.currency, 'priced', (ARRAY['new', 'used', 'refurbished'])[1 + i % 3],
       CAST(:first_day AS date), CAST(:first_day AS date)
FROM generate_series(1, :listings) AS i
JOIN (SELECT id, currency, row_number() OVER (ORDER BY id) - 1 AS k FROM vendors) v ON v.k = i % 3;
INSERT INTO listing_sightings (listing_id, vendor_id, partition_date, seen_at, price, currency, price_kind,
                               is_sold, title)
SELECT l.id, l.vendor_id, CAST(:first_day AS date) + d, CAST(:first_day AS date) + d + time '06:00',
       round(CAST((50 + (l.id * 37) % 900) * (1 + 0.05 * sin(l.id + d)) AS numeric), 2),
       l.currency, 'priced', (l.id + d) % 53 = 0, l.title
FROM listings l CROSS JOIN generate_series(0, :days - 1) AS d;
INSERT INTO searches (vendor_id, partition_date, query, status, pages, items, requests, bytes, browser_seconds,
                      duration_ms, cache_hit)
SELECT v.id, CAST(:first_day AS date) + d, q, CASE WHEN (v.id + d) % 17 = 0 THEN 'partial' ELSE 'success' END,
       3, 20, 3, 150000, 0, 1000 + (v.id * 131 + d * 17) % 4000, d % 5 = 0
FROM vendors v CROSS JOIN generate_series(0, :days - 1) AS d CROSS JOIN unnest(ARRAY['iphone', 'galaxy', 'ps5']) AS q;
INSERT INTO search_results (search_id, listing_id, position, partition_date)
SELECT s.id, l.id, row_number() OVER (PARTITION BY s.id ORDER BY l.id), s.partition_date
FROM searches s
JOIN listings l ON l.vendor_id = s.vendor_id AND l.id % 100 < 3 AND l.id % 7 = length(s.query) % 7;
ANALYZE;
