-- The HTTP API benchmark's warehouse: :vendors vendors, :products products, :listings listings
-- titled "<brand> <line> <n>GB" (20 brands x 10 lines: one brand-and-line query matches ~1/200 of
-- them), :observations price observations spread over their listings and the last 60 days, and
-- 30 days of price snapshots per product.
INSERT INTO vendors (name, display_name, base_url, currency)
SELECT 'bench' || v, 'Bench ' || v, 'http://127.0.0.1', 'USD' FROM generate_series(1, CAST(:vendors AS integer)) v;

INSERT INTO products (product_key, name)
SELECT 'bench:' || p, 'Product ' || p FROM generate_series(1, CAST(:products AS integer)) p;

INSERT INTO listings (vendor_id, external_id, product_id, title, price, currency, price_kind, condition,
                      first_seen_at, last_seen_at, is_sold, sold_at)
SELECT (SELECT min(id) FROM vendors) + i % CAST(:vendors AS integer), 'l' || i,
       (SELECT min(id) FROM products) + i % CAST(:products AS integer),
       (ARRAY['Galaxy','iPhone','Pixel','Switch','PlayStation','Xbox','MacBook','ThinkPad','Kindle','AirPods',
              'Canon','Nikon','Sony','Bose','Dyson','Lego','Pokemon','Garmin','Fitbit','GoPro'])[1 + i % 20]
       || ' ' || (ARRAY['Pro','Max','Mini','Ultra','Lite','Plus','Air','Neo','Edge','Flip'])[1 + (i / 20) % 10]
       || ' ' || (16 * (1 + i % 64)) || 'GB',
       round(CAST(50 + (i * 7919 % 100000) / 100.0 AS numeric), 2), 'USD', 'priced',
       (ARRAY['new','used','refurbished'])[1 + i % 3],
       now() - make_interval(days => 60 - i % 60), now() - make_interval(secs => i % 86400),
       i % 10 = 0, CASE WHEN i % 10 = 0 THEN now() - make_interval(days => i % 30) END
FROM generate_series(1, CAST(:listings AS integer)) i;

INSERT INTO price_observations (listing_id, observed_at, observed_date, price, currency)
SELECT l.id, t.at, CAST(t.at AS date), round(l.price * (0.9 + 0.05 * k), 2), 'USD'
FROM listings l
CROSS JOIN LATERAL generate_series(1, CAST(:observations AS integer) / CAST(:listings AS integer)) k
CROSS JOIN LATERAL (SELECT now() - make_interval(days => 60 - 10 * k, secs => l.id % 3600) AS at) t;

INSERT INTO price_snapshots (product_id, snapshot_date, currency, fmv_low, fmv_high, market_value, quick_sale,
                             patient_sale, sample_size, min_price, max_price, avg_price, volume_confidence)
SELECT p.id, current_date - d, 'USD', 90, 110, 100, 88, 112, 20, 50, 150, 101, 'high'
FROM products p CROSS JOIN generate_series(0, 29) d;

ANALYZE;
