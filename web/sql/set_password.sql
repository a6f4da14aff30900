-- A new password ends every session of the user (the caller opens a new one where it should).
UPDATE users
SET password_hash = :password_hash, must_change_password = :must_change, password_changed_at = now(),
    failed_logins = 0, locked_until = NULL
WHERE id = :user_id;
DELETE FROM web_sessions WHERE user_id = :user_id
