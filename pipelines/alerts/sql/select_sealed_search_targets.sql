-- Every saved search's stored notification settings (their targets are sealed), for re-keying.
SELECT id, notification_settings FROM saved_searches ORDER BY id FOR UPDATE;
