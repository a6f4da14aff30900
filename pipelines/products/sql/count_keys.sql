-- How many products each blocking key points at (keys shared by too many say nothing).
SELECT key, count(*) AS products FROM product_keys WHERE key = ANY(CAST(:keys AS text[])) GROUP BY key
