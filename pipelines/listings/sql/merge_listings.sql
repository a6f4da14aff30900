-- New listings are inserted; known ones take this partition's fields only when this sighting is
-- at least as recent as the latest one (re-parsing an old day must not roll fields back).
INSERT INTO listings AS l (vendor_id, external_id, title, price, currency, price_kind, condition, location,
                           url, seller, product_code, first_seen_at, last_seen_at, metadata)
SELECT :vendor_id, external_id, title, price, currency, price_kind, condition, location, url, seller,
       product_code, seen_at, seen_at, metadata
FROM staged_items
ON CONFLICT (vendor_id, external_id) DO UPDATE SET
    title = EXCLUDED.title, price = EXCLUDED.price, currency = EXCLUDED.currency,
    price_kind = EXCLUDED.price_kind, condition = EXCLUDED.condition, location = EXCLUDED.location,
    url = EXCLUDED.url, seller = EXCLUDED.seller, product_code = EXCLUDED.product_code,
    metadata = EXCLUDED.metadata
WHERE l.last_seen_at <= EXCLUDED.last_seen_at
  AND (l.title, l.price, l.currency, l.price_kind, l.condition, l.location, l.url, l.seller,
       l.product_code, l.metadata)
      IS DISTINCT FROM
      (EXCLUDED.title, EXCLUDED.price, EXCLUDED.currency, EXCLUDED.price_kind, EXCLUDED.condition,
       EXCLUDED.location, EXCLUDED.url, EXCLUDED.seller, EXCLUDED.product_code, EXCLUDED.metadata);
