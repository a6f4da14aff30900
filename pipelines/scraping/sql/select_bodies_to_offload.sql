-- Bodies still in the database, first stored before :before, that the listing cache does not
-- serve (those are read on every conditional request), a batch at a time.
SELECT b.sha256, b.encoding, b.body
FROM capture_bodies b
WHERE b.body IS NOT NULL AND b.created_at < :before
  AND NOT EXISTS (SELECT 1 FROM listing_cache c WHERE c.body_sha256 = b.sha256)
ORDER BY b.sha256
LIMIT :batch;
