-- One product, with its listings counted.
SELECT p.id, p.name, p.brand, p.product_code, p.attributes, p.created_at,
       (SELECT count(*) FROM listings l WHERE l.product_id = p.id) AS listings,
       (SELECT count(*) FROM listings l WHERE l.product_id = p.id AND NOT l.is_sold AND NOT l.is_removed) AS active_listings
FROM products p
WHERE p.id = :product_id
