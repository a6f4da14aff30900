-- Other listings carrying one of the window's GTINs (in any spelling): they vote on the product.
SELECT l.id, v.name AS vendor, l.title, l.product_code, l.condition
FROM listings l
JOIN vendors v ON v.id = l.vendor_id
WHERE l.product_code = ANY(CAST(:codes AS text[]))
ORDER BY l.id;
