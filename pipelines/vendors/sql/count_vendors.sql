SELECT count(*) FROM vendors;
