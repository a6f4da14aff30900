UPDATE web_sessions SET last_seen_at = now() WHERE id = :session_id
