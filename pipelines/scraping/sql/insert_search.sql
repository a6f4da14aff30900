INSERT INTO searches (vendor_id, partition_date, query, status, pages, items, requests, bytes,
                      browser_seconds, duration_ms, cache_hit, error, started_at, completed_at, request_id)
VALUES (:vendor_id, :partition_date, :query, :status, :pages, :items, :requests, :bytes,
        :browser_seconds, :duration_ms, :cache_hit, :error, :started_at, :completed_at, :request_id)
RETURNING id;
