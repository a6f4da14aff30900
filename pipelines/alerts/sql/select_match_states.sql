-- Existing alert_matches rows of (saved search, listing) pairs, given as two parallel arrays.
SELECT m.saved_search_id, m.listing_id, m.rule, m.last_notified_price, m.data
FROM alert_matches m
JOIN unnest(CAST(:searches AS bigint[]), CAST(:listings AS bigint[])) AS p(saved_search_id, listing_id)
  ON m.saved_search_id = p.saved_search_id AND m.listing_id = p.listing_id;
