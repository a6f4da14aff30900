DELETE FROM web_sessions WHERE token_hash = :token_hash
