SELECT id FROM vendors WHERE name = :name;
