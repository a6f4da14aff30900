-- Bodies kept outside the database, a batch at a time.
SELECT sha256, encoding, archive_url FROM capture_bodies WHERE body IS NULL ORDER BY sha256 LIMIT :batch;
