SELECT name FROM vendors;
