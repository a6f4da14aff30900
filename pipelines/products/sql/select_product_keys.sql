-- Which products each blocking key points at (only ids: candidates are ranked before any
-- product is read in full).
SELECT key, product_id FROM product_keys WHERE key = ANY(CAST(:keys AS text[]))
