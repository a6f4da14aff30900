SELECT count(*) FROM products;
