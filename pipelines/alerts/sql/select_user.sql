SELECT id, email, display_name FROM users WHERE username = :u;
