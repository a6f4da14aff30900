SELECT u.id, u.username, u.email, u.role, u.is_active, u.password_hash IS NOT NULL AS can_log_in,
       u.must_change_password, u.last_login, u.locked_until IS NOT NULL AND u.locked_until > now() AS locked,
       (SELECT count(*) FROM web_sessions s WHERE s.user_id = u.id AND s.expires_at > now()) AS sessions,
       (SELECT count(*) FROM api_keys k WHERE k.user_id = u.id AND k.is_active
            AND (k.expires_at IS NULL OR k.expires_at > now())) AS keys
FROM users u
ORDER BY u.username
