-- Blocking keys of new products and keys products gained (a GTIN confirmed by a match).
INSERT INTO product_keys (key, product_id)
SELECT DISTINCT k.key, p.id FROM staged_keys k JOIN products p ON p.product_key = k.product_key
ON CONFLICT DO NOTHING
