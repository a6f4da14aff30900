COPY staged_matches (listing_id, product_key, method, score, signature) FROM STDIN
