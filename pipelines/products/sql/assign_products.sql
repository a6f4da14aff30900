-- Point each matched listing at its product, with how it was matched (only rows that change).
UPDATE listings l SET product_id = p.id, match_method = m.method, match_score = m.score,
                      match_signature = m.signature
FROM staged_matches m
JOIN products p ON p.product_key = m.product_key
WHERE l.id = m.listing_id
  AND (l.product_id, l.match_method, l.match_score, l.match_signature)
      IS DISTINCT FROM (p.id, m.method, m.score, m.signature)
