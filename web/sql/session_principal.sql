-- Who holds this session token: only a live session of an active user who can log in.
SELECT s.id AS session_id, u.id AS user_id, u.username, u.role, u.must_change_password,
       s.last_seen_at < now() - interval '1 minute' AS stale
FROM web_sessions s JOIN users u ON u.id = s.user_id
WHERE s.token_hash = :token_hash AND s.expires_at > now() AND u.is_active AND u.password_hash IS NOT NULL
