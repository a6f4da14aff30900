UPDATE users SET is_active = :active WHERE id = :user_id;
DELETE FROM web_sessions WHERE user_id = :user_id AND NOT :active
