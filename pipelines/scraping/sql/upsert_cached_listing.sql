-- A downloaded detail page; a known external id is kept when the new one is unknown.
INSERT INTO listing_cache (vendor_id, url, external_id, status, etag, last_modified, content_type, headers,
                           body_sha256, fetched_at, validated_at, expires_at)
VALUES (:vendor_id, :url, :external_id, :status, :etag, :last_modified, :content_type, CAST(:headers AS jsonb),
        :sha256, :fetched_at, :validated_at, :expires_at)
ON CONFLICT (vendor_id, url) DO UPDATE SET
    external_id = coalesce(EXCLUDED.external_id, listing_cache.external_id), status = EXCLUDED.status,
    etag = EXCLUDED.etag, last_modified = EXCLUDED.last_modified, content_type = EXCLUDED.content_type,
    headers = EXCLUDED.headers, body_sha256 = EXCLUDED.body_sha256, fetched_at = EXCLUDED.fetched_at,
    validated_at = EXCLUDED.validated_at, expires_at = EXCLUDED.expires_at;
