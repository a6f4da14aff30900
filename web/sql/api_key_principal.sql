-- The key with this lookup prefix and its user; the hash is compared by the caller in constant time.
SELECT k.id AS key_id, k.key_hash, k.scopes, k.is_active, k.expires_at,
       k.expires_at IS NOT NULL AND k.expires_at <= now() AS expired,
       k.last_used_at IS NULL OR k.last_used_at < now() - interval '1 minute' AS stale,
       u.id AS user_id, u.username, u.role, u.is_active AS user_active
FROM api_keys k JOIN users u ON u.id = k.user_id
WHERE k.key_prefix = :key_prefix
