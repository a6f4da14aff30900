-- Categories named by the rules, then new products by their natural key. An existing product
-- keeps its name and anchor; GTINs confirmed for it accumulate.
INSERT INTO categories (name, slug)
SELECT DISTINCT category_name, category FROM staged_products
ON CONFLICT (slug) DO NOTHING;

INSERT INTO products AS p (product_key, name, brand, product_code, category_id, attributes)
SELECT s.product_key, s.name, s.brand, s.product_code, c.id, s.attributes
FROM staged_products s
JOIN categories c ON c.slug = s.category
ON CONFLICT (product_key) DO UPDATE SET
    brand = coalesce(p.brand, EXCLUDED.brand),
    product_code = coalesce(p.product_code, EXCLUDED.product_code),
    attributes = p.attributes || jsonb_build_object('gtins', (
        SELECT coalesce(jsonb_agg(DISTINCT g ORDER BY g), '[]'::jsonb)
        FROM jsonb_array_elements_text(coalesce(p.attributes -> 'gtins', '[]'::jsonb)
                                       || coalesce(EXCLUDED.attributes -> 'gtins', '[]'::jsonb)) AS g))
          || CASE WHEN p.attributes ? 'anchor' THEN '{}'::jsonb
                  ELSE jsonb_build_object('anchor', EXCLUDED.attributes -> 'anchor',
                                          'rules', EXCLUDED.attributes -> 'rules') END
