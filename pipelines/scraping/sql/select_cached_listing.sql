-- A detail page from the listing cache, unless it expired.
SELECT c.url, c.status, c.headers, c.content_type, c.etag, c.last_modified, c.fetched_at, c.validated_at,
       b.body, b.encoding, b.archive_url
FROM listing_cache c JOIN capture_bodies b ON b.sha256 = c.body_sha256
WHERE c.vendor_id = :vendor_id AND c.url = :url AND c.expires_at > now();
