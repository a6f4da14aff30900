INSERT INTO raw_captures (vendor_id, search_id, partition_date, query, page_number, url, final_url,
                          status, headers, content_type, fetch_mode, body_sha256, bytes, attempts,
                          elapsed_ms, browser_seconds, error, fetched_at)
VALUES (:vendor_id, :search_id, :partition_date, :query, :page_number, :url, :final_url, :status,
        CAST(:headers AS jsonb), :content_type, :fetch_mode, :body_sha256, :bytes, :attempts,
        :elapsed_ms, :browser_seconds, :error, :fetched_at);
