-- The body now lives at :archive_url (written and read back first): the row keeps only the pointer.
UPDATE capture_bodies SET body = NULL, archive_url = :archive_url
WHERE sha256 = :sha256 AND body IS NOT NULL;
