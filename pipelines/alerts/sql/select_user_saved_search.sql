SELECT id, query, criteria, notification_settings, is_active FROM saved_searches
WHERE user_id = :uid AND name = :name;
