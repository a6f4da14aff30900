COPY staged_products (product_key, name, brand, category, category_name, product_code, attributes) FROM STDIN
