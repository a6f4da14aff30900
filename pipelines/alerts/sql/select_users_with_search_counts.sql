SELECT u.id, u.username, u.email, u.display_name, u.is_active, count(s.id) AS searches
FROM users u LEFT JOIN saved_searches s ON s.user_id = u.id
GROUP BY u.id ORDER BY u.username;
