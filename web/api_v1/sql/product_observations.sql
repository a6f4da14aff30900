-- The price observations (new or changed prices) of a product's listings over :days days.
-- Read per listing (an index range on (listing_id, observed_at, observed_date) in the window's month
-- partitions; OFFSET 0 keeps the planner from turning it into a join): as a hash join it read every
-- observation of the window, of every product, once a product had a few dozen listings.
-- Only the listings last seen inside the window are read (an index range on (product_id,
-- last_seen_at)): an observation is a sighting's, dated its seen_at, and last_seen_at is the latest
-- sighting's, so a listing last seen before the window has none inside it. A product's listings
-- of past months cost nothing.
SELECT o.listing_id, o.observed_at, o.price, o.currency
FROM listings l
CROSS JOIN LATERAL (
    SELECT p.listing_id, p.observed_at, p.price, p.currency FROM price_observations p
    WHERE p.listing_id = l.id AND p.observed_at > now() - make_interval(days => CAST(:days AS integer))
      -- the same window on the partition key (observed_date is observed_at's UTC day; :since is the
      -- window's first UTC day less a day of slack, a value, so months before it are pruned when
      -- the query is planned): only the window's month partitions are planned and read
      AND p.observed_date >= CAST(:since AS date)
    OFFSET 0
) o
WHERE l.product_id = :product_id AND l.last_seen_at > now() - make_interval(days => CAST(:days AS integer))
ORDER BY o.observed_at, o.listing_id
LIMIT 5000
