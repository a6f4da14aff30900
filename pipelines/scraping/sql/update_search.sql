-- An earlier search of the same query in the same partition, rewritten with this fetch's outcome.
UPDATE searches SET
    status = :status, pages = :pages, items = :items, requests = :requests, bytes = :bytes,
    browser_seconds = :browser_seconds, duration_ms = :duration_ms, cache_hit = :cache_hit, error = :error,
    started_at = :started_at, completed_at = :completed_at, created_at = now()
WHERE id = :id AND vendor_id = :vendor_id AND partition_date = :partition_date AND query = :query;
