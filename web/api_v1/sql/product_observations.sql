-- The price observations (new or changed prices) of a product's listings over :days days.
SELECT o.listing_id, o.observed_at, o.price, o.currency
FROM price_observations o
JOIN listings l ON l.id = o.listing_id
WHERE l.product_id = :product_id AND o.observed_at > now() - make_interval(days => CAST(:days AS integer))
ORDER BY o.observed_at, o.listing_id
LIMIT 5000
