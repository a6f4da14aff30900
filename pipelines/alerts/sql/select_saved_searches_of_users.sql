SELECT s.id, u.username, s.name FROM saved_searches s JOIN users u ON u.id = s.user_id
WHERE u.username = ANY(:users) ORDER BY s.id;
