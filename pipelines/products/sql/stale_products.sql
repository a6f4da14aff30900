-- Products whose blocking keys were derived under other rules (or never): they are re-keyed.
SELECT id, product_key, attributes -> 'anchor' AS anchor, attributes -> 'gtins' AS gtins
FROM products
WHERE attributes ? 'anchor' AND attributes ->> 'rules' IS DISTINCT FROM CAST(:rules AS text)
