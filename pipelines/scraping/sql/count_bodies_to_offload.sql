-- How many bodies (and compressed bytes) select_bodies_to_offload would move.
SELECT count(*) AS bodies, coalesce(sum(length(b.body)), 0) AS bytes
FROM capture_bodies b
WHERE b.body IS NOT NULL AND b.created_at < :before
  AND NOT EXISTS (SELECT 1 FROM listing_cache c WHERE c.body_sha256 = b.sha256);
