-- A body brought back into the database (the file is left where it is).
UPDATE capture_bodies SET body = :body, archive_url = NULL WHERE sha256 = :sha256 AND body IS NULL;
