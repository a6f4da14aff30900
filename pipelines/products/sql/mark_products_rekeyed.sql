-- The re-keyed products now carry keys of the current rules.
UPDATE products SET attributes = attributes || jsonb_build_object('rules', CAST(:rules AS text))
WHERE id = ANY(CAST(:ids AS bigint[]))
