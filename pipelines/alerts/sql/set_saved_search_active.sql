UPDATE saved_searches SET is_active = :a WHERE id = :id AND is_active <> :a;
