-- The comps themselves (see comps_band.sql), most recently seen first, at most :limit.
SELECT l.id, v.name AS vendor, l.product_id, l.title, l.price, l.currency, l.price_kind, l.condition,
       l.url, l.first_seen_at, l.last_seen_at, l.is_sold, l.is_removed
FROM listings l JOIN vendors v ON v.id = l.vendor_id
WHERE l.title ILIKE :like AND l.price IS NOT NULL AND l.price_kind = 'priced'
  AND ((NOT l.is_sold AND NOT l.is_removed)
       OR (l.is_sold AND l.sold_at > now() - make_interval(days => CAST(:days AS integer))))
  AND (CAST(:currency AS text) IS NULL OR l.currency = :currency)
ORDER BY l.last_seen_at DESC, l.id DESC
LIMIT CAST(:limit AS integer)
