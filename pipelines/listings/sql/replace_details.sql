-- Positions in this partition's searches (search_results carries the search's day: one month partition).
DELETE FROM search_results r USING searches s
WHERE r.search_id = s.id AND s.vendor_id = :vendor_id AND s.partition_date = :partition_date
  AND r.partition_date = :partition_date;
INSERT INTO search_results (search_id, listing_id, position, page, partition_date)
SELECT p.search_id, l.id, p.position, p.page, CAST(:partition_date AS date)
FROM staged_positions p JOIN listings l ON l.vendor_id = :vendor_id AND l.external_id = p.external_id;

-- Attributes and images follow the latest sighting, like the other listing fields.
CREATE TEMP TABLE latest_here ON COMMIT DROP AS
    SELECT l.id AS listing_id, s.attributes, s.images
    FROM staged_items s JOIN listings l ON l.vendor_id = :vendor_id AND l.external_id = s.external_id
    WHERE l.last_seen_at = s.seen_at;

DELETE FROM listing_attributes a USING latest_here h WHERE a.listing_id = h.listing_id;
INSERT INTO listing_attributes (listing_id, key, value)
SELECT h.listing_id, kv.key, kv.value FROM latest_here h, jsonb_each_text(h.attributes) kv;

DELETE FROM listing_images i USING latest_here h WHERE i.listing_id = h.listing_id;
INSERT INTO listing_images (listing_id, url, position)
SELECT h.listing_id, img.url, img.position::smallint
FROM latest_here h, jsonb_array_elements_text(h.images) WITH ORDINALITY AS img(url, position);
