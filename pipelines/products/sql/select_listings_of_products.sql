SELECT id FROM listings WHERE product_id = ANY(CAST(:ids AS bigint[])) ORDER BY id
