SELECT id FROM vendors WHERE name = :vendor
