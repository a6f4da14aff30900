-- Catalogue products sharing a blocking key with the listings being matched (or named by a
-- person's decision), with the anchor they are compared by.
SELECT p.id, p.product_key, p.attributes -> 'anchor' AS anchor, p.attributes -> 'gtins' AS gtins,
       p.attributes ->> 'rules' AS rules, p.attributes -> 'features' AS features
FROM products p
WHERE p.id IN (SELECT k.product_id FROM product_keys k WHERE k.key = ANY(CAST(:keys AS text[])))
   OR p.product_key = ANY(CAST(:product_keys AS text[]))
