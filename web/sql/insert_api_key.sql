INSERT INTO api_keys (user_id, name, key_prefix, key_hash, scopes, expires_at)
VALUES (:user_id, :name, :key_prefix, :key_hash, CAST(:scopes AS jsonb), :expires_at)
RETURNING id
