UPDATE users SET failed_logins = 0, locked_until = NULL, last_login = now() WHERE id = :user_id
