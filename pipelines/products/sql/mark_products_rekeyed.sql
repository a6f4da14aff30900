-- The re-keyed products now carry the features and keys of the current rules.
UPDATE products p SET attributes = p.attributes || jsonb_build_object('features', r.features,
                                                                      'rules', CAST(:rules AS text))
FROM rekeyed r
WHERE p.id = r.id
