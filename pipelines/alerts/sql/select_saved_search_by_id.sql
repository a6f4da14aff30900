-- A saved search by id (of :user, when given).
SELECT s.id, s.name, s.is_active, u.username FROM saved_searches s JOIN users u ON u.id = s.user_id
WHERE s.id = CAST(:ref AS bigint)
  AND (CAST(:user AS text) IS NULL OR u.username = CAST(:user AS text));
