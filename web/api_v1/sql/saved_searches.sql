-- The caller's saved searches (never another user's).
SELECT id, name, query, criteria, notification_settings, is_active, last_checked_at, last_matched_at,
       created_at, updated_at
FROM saved_searches
WHERE user_id = :user_id AND (CAST(:search_id AS bigint) IS NULL OR id = :search_id)
ORDER BY id
