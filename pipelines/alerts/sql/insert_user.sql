INSERT INTO users (username, email, display_name) VALUES (:u, :e, :d) RETURNING id;
