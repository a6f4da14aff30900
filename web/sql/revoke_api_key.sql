UPDATE api_keys SET is_active = false, revoked_at = coalesce(revoked_at, now())
WHERE id = CAST(:key_id AS bigint) OR key_prefix = :key_prefix
RETURNING id, key_prefix, (SELECT username FROM users WHERE users.id = api_keys.user_id) AS username
