-- The catalogue of bench/scale.py: :vendors vendors and :products products (listings are made per phase).
INSERT INTO vendors (id, name, display_name, base_url, currency)
OVERRIDING SYSTEM VALUE
SELECT v, 'v' || v, 'Vendor ' || v, 'http://127.0.0.1', 'EUR' FROM generate_series(1, :vendors) v;
INSERT INTO products (id, product_key, name)
OVERRIDING SYSTEM VALUE
SELECT p, 'p' || p, 'Product ' || p FROM generate_series(1, :products) p;
SELECT setval(pg_get_serial_sequence('vendors', 'id'), :vendors);
SELECT setval(pg_get_serial_sequence('products', 'id'), :products);
