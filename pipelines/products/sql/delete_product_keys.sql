DELETE FROM product_keys WHERE product_id = ANY(CAST(:ids AS bigint[]))
