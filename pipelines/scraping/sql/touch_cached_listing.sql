-- The server confirmed a cached page (304 Not Modified): it stays for another TTL.
UPDATE listing_cache SET validated_at = :validated_at, expires_at = :expires_at, hits = hits + 1
WHERE vendor_id = :vendor_id AND url = :url;
