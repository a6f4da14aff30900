-- Every archived response of one (vendor, day) partition with its (compressed) body, in page order.
SELECT c.search_id, c.query, c.page_number, coalesce(c.final_url, c.url) AS url, c.status, c.error,
       c.fetched_at, b.body, b.encoding, b.archive_url
FROM raw_captures c LEFT JOIN capture_bodies b ON b.sha256 = c.body_sha256
WHERE c.vendor_id = :vendor_id AND c.partition_date = :partition_date
ORDER BY c.search_id, c.page_number;
