-- The newest successful search of :query whose pages include :url and were all downloaded since
-- :since (its oldest capture's fetched_at is the age of its data).
SELECT s.id, s.items, min(c.fetched_at) AS fetched_at
FROM searches s JOIN raw_captures c ON c.search_id = s.id
WHERE s.vendor_id = :vendor_id AND s.query = :query AND s.status = 'success'
  AND EXISTS (SELECT 1 FROM raw_captures f WHERE f.search_id = s.id AND f.url = :url)
GROUP BY s.id, s.items
HAVING min(c.fetched_at) >= :since
ORDER BY min(c.fetched_at) DESC, s.id DESC
LIMIT 1;
