SELECT name, id FROM vendors WHERE name = ANY(:names);
