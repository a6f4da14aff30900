UPDATE listings SET product_id = :p, match_method = 'manual', match_score = 1.0
WHERE id = ANY(CAST(:ids AS bigint[]))
