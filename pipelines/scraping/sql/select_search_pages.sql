-- A search's archived responses with their (compressed) bodies, in page order.
SELECT c.page_number, c.url, c.final_url, c.status, c.headers, c.content_type, c.fetch_mode, c.error,
       c.fetched_at, b.body, b.encoding, b.archive_url
FROM raw_captures c LEFT JOIN capture_bodies b ON b.sha256 = c.body_sha256
WHERE c.search_id = :search_id ORDER BY c.page_number;
