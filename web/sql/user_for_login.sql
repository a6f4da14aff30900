-- The account a login names, with the database's clock (lockouts are compared with it).
SELECT id, username, role, password_hash, is_active, must_change_password, locked_until,
       locked_until IS NOT NULL AND locked_until > now() AS locked
FROM users
WHERE username = :username
