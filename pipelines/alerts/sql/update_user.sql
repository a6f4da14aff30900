UPDATE users SET email = :e, display_name = :d WHERE id = :id;
