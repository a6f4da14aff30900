-- A user who already has this username or (case-insensitively) this e-mail address.
SELECT username, email FROM users WHERE username = :u OR lower(email) = lower(:e) LIMIT 1;
