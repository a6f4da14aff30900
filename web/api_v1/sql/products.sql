-- Products whose name contains :like (all when NULL), by id after :after (keyset), at most :limit.
SELECT p.id, p.name, p.brand, p.product_code,
       (SELECT count(*) FROM listings l WHERE l.product_id = p.id) AS listings
FROM products p
WHERE (CAST(:like AS text) IS NULL OR p.name ILIKE :like)
  AND p.id > CAST(:after AS bigint)
ORDER BY p.id
LIMIT CAST(:limit AS integer)
