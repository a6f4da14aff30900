-- A page of listings, cheapest first (priced listings only); keyset: (price, id) above the cursor's.
-- Every filter is optional (NULL: not applied); :like is an ILIKE pattern of the words asked for.
SELECT l.id, v.name AS vendor, l.product_id, l.title, l.price, l.currency, l.price_kind, l.condition,
       l.url, l.first_seen_at, l.last_seen_at, l.is_sold, l.is_removed
FROM listings l JOIN vendors v ON v.id = l.vendor_id
WHERE (CAST(:like AS text) IS NULL OR l.title ILIKE :like)
  AND (CAST(:vendor AS text) IS NULL OR v.name = :vendor)
  AND (CAST(:min_price AS numeric) IS NULL OR l.price >= :min_price)
  AND (CAST(:max_price AS numeric) IS NULL OR l.price <= :max_price)
  AND (CAST(:currency AS text) IS NULL OR l.currency = :currency)
  AND (CAST(:condition AS text) IS NULL OR lower(l.condition) = :condition)
  AND (CAST(:sold AS boolean) IS NULL OR l.is_sold = :sold)
  AND l.price IS NOT NULL
  AND (CAST(:after_price AS numeric) IS NULL
       OR (l.price, l.id) > (CAST(:after_price AS numeric), CAST(:after_id AS bigint)))
ORDER BY l.price, l.id
LIMIT CAST(:limit AS integer)
