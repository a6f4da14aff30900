-- A role change ends the user's sessions, so the new role applies at once; keys that the new role
-- may not hold (write keys of a viewer) are revoked.
UPDATE users SET role = :role WHERE id = :user_id;
DELETE FROM web_sessions WHERE user_id = :user_id;
UPDATE api_keys SET is_active = false, revoked_at = now()
WHERE user_id = :user_id AND is_active AND :role = 'viewer' AND scopes ? 'write'
