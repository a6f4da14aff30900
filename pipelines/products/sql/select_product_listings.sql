SELECT l.id, v.name AS vendor, l.title, l.price, l.currency, l.match_method, l.match_score, d.action AS decision
FROM listings l
JOIN vendors v ON v.id = l.vendor_id
LEFT JOIN product_decisions d ON d.listing_id = l.id
WHERE l.product_id = :p
ORDER BY v.name, l.id
