INSERT INTO web_sessions (token_hash, user_id, expires_at)
VALUES (:token_hash, :user_id, now() + make_interval(secs => :lifetime_seconds));
DELETE FROM web_sessions WHERE expires_at < now() - interval '1 day'
