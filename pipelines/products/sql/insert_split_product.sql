-- The product a split makes, named after the first listing; splitting the same listing again reuses it.
INSERT INTO products (product_key, name, category_id, attributes)
SELECT :key, l.title, :category, CAST(:attrs AS jsonb) FROM listings l WHERE l.id = :first
ON CONFLICT (product_key) DO UPDATE SET name = products.name
RETURNING id
