UPDATE saved_searches SET notification_settings = CAST(:settings AS jsonb) WHERE id = :id;
