-- An earlier search of the same query in the same partition, rewritten with this fetch's outcome
-- (an on-demand fetch marks it as its own; a scheduled one leaves the mark as it was).
UPDATE searches SET
    status = :status, pages = :pages, items = :items, requests = :requests, bytes = :bytes,
    browser_seconds = :browser_seconds, duration_ms = :duration_ms, cache_hit = :cache_hit, error = :error,
    started_at = :started_at, completed_at = :completed_at, created_at = now(),
    request_id = COALESCE(CAST(:request_id AS bigint), request_id)
WHERE id = :id AND vendor_id = :vendor_id AND partition_date = :partition_date AND query = :query;
