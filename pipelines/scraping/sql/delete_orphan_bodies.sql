-- Bodies no capture and no cached listing refers to any more (their captures were pruned); returns
-- where the archived ones lived, so their files can go too.
DELETE FROM capture_bodies b
WHERE NOT EXISTS (SELECT 1 FROM raw_captures c WHERE c.body_sha256 = b.sha256)
  AND NOT EXISTS (SELECT 1 FROM listing_cache l WHERE l.body_sha256 = b.sha256)
RETURNING b.sha256, b.archive_url;
