COPY staged_keys (product_key, key) FROM STDIN
