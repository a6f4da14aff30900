-- Delete one of the caller's saved searches (matches and outbox rows go with it: ON DELETE CASCADE).
DELETE FROM saved_searches WHERE id = :search_id AND user_id = :user_id
RETURNING id
