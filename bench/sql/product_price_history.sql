-- What an API asking for one product's prices over 30 days reads: every price change of its
-- listings (price_observations) in the window, and its daily market (price_snapshots).
SELECT o.observed_date, l.vendor_id, o.price, o.currency
FROM listings l JOIN price_observations o ON o.listing_id = l.id
WHERE l.product_id = :product AND o.observed_date > CAST(:day AS date) - 30 AND o.observed_date <= :day
ORDER BY o.observed_date, l.vendor_id;
