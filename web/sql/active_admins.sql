SELECT count(*) FROM users WHERE role = 'admin' AND is_active AND password_hash IS NOT NULL
