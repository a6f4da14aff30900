-- A response body, stored once per content hash (the archive and the listing cache share them).
INSERT INTO capture_bodies (sha256, encoding, size, body) VALUES (:sha256, :encoding, :size, :body)
ON CONFLICT (sha256) DO NOTHING;
