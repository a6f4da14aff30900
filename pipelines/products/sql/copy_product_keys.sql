COPY product_keys (key, product_id) FROM STDIN
