SELECT l.id, l.product_id, p.product_key, p.category_id, p.name
FROM listings l LEFT JOIN products p ON p.id = l.product_id
WHERE l.id = ANY(CAST(:ids AS bigint[]))
ORDER BY l.id
