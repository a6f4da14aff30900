-- Row order: the columns below, as replace_listings_partition writes them.
COPY staged_items (external_id, title, price, currency, price_kind, condition, location, url,
                   seller, product_code, is_sold, seen_at, attributes, images, metadata) FROM STDIN;
