-- The saved searches named :ref (of :user, when given); several users may use one name.
SELECT s.id, s.name, s.is_active, u.username FROM saved_searches s JOIN users u ON u.id = s.user_id
WHERE s.name = CAST(:ref AS text)
  AND (CAST(:user AS text) IS NULL OR u.username = CAST(:user AS text));
