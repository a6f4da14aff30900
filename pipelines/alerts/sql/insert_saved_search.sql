INSERT INTO saved_searches (user_id, name, query, criteria, notification_settings, is_active)
VALUES (:uid, :name, :query, CAST(:criteria AS jsonb), CAST(:settings AS jsonb), :active)
RETURNING id;
