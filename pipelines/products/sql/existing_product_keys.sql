-- Which of these natural keys are taken already.
SELECT product_key FROM products WHERE product_key = ANY(CAST(:keys AS text[]))
