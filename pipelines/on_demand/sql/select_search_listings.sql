-- What one vendor's search of an on-demand request found, in the shop's order, as published.
SELECT l.id, l.title, l.price, l.currency, l.url, l.condition, l.is_sold, r.position
FROM searches s
JOIN search_results r ON r.search_id = s.id AND r.partition_date = s.partition_date
JOIN listings l ON l.id = r.listing_id
WHERE s.request_id = :request_id AND s.vendor_id = :vendor_id AND s.partition_date = :partition_date
ORDER BY r.position
LIMIT :limit;
