-- Active saved searches of active users.
SELECT s.id, s.user_id, s.name, s.query, s.criteria, s.notification_settings
FROM saved_searches s JOIN users u ON u.id = s.user_id
WHERE s.is_active AND u.is_active ORDER BY s.id;
