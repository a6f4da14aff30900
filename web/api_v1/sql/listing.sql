-- One listing with its vendor's name.
SELECT l.id, v.name AS vendor, l.external_id, l.product_id, l.title, l.price, l.currency, l.price_kind,
       l.condition, l.location, l.url, l.seller, l.first_seen_at, l.last_seen_at, l.sold_at, l.removed_at,
       l.is_sold, l.is_removed
FROM listings l JOIN vendors v ON v.id = l.vendor_id
WHERE l.id = :listing_id
