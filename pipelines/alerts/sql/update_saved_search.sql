UPDATE saved_searches SET query = :query, criteria = CAST(:criteria AS jsonb),
       notification_settings = CAST(:settings AS jsonb), is_active = :active
WHERE id = :id;
