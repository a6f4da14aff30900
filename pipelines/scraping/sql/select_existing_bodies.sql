-- Which of these content hashes are stored already.
SELECT sha256 FROM capture_bodies WHERE sha256 = ANY(:shas);
