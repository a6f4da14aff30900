-- The price observations (new or changed prices) of a product's listings over :days days.
SELECT o.listing_id, o.observed_at, o.price, o.currency
FROM price_observations o
JOIN listings l ON l.id = o.listing_id
WHERE l.product_id = :product_id AND o.observed_at > now() - make_interval(days => CAST(:days AS integer))
  -- the same window on the partition key (observed_date is observed_at's UTC day; a day of slack):
  -- only the window's month partitions are read, not one index probe per month of history
  AND o.observed_date >= CAST((now() - make_interval(days => CAST(:days AS integer))) AT TIME ZONE 'UTC' AS date) - 1
ORDER BY o.observed_at, o.listing_id
LIMIT 5000
