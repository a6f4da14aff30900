-- The candidate products (and those named by a person's decision), with the anchor they are
-- compared by and its features as derived under the rules version they carry.
SELECT p.id, p.product_key, p.attributes -> 'anchor' AS anchor, p.attributes -> 'gtins' AS gtins,
       p.attributes ->> 'rules' AS rules, p.attributes -> 'features' AS features
FROM products p
WHERE p.id = ANY(CAST(:ids AS bigint[])) OR p.product_key = ANY(CAST(:product_keys AS text[]))
