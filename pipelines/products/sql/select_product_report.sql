SELECT p.id, p.product_key, p.name, p.brand, p.product_code, c.slug AS category, p.attributes
FROM products p LEFT JOIN categories c ON c.id = p.category_id
WHERE p.product_key = :r OR CAST(p.id AS text) = :r
