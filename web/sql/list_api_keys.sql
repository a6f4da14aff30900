SELECT k.id, u.username, k.name, k.key_prefix, k.scopes, k.is_active, k.created_at, k.expires_at,
       k.last_used_at, k.revoked_at, k.expires_at IS NOT NULL AND k.expires_at <= now() AS expired
FROM api_keys k JOIN users u ON u.id = k.user_id
WHERE CAST(:username AS text) IS NULL OR u.username = :username
ORDER BY k.created_at, k.id
