-- Point each matched listing at its product (only rows that change are touched).
UPDATE listings l SET product_id = p.id
FROM staged_matches m
JOIN products p ON p.product_key = m.product_key
WHERE l.id = m.listing_id AND l.product_id IS DISTINCT FROM p.id;
