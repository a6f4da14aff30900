-- A product named by its key or its id.
SELECT id, product_key, name FROM products WHERE product_key = :r OR CAST(id AS text) = :r
