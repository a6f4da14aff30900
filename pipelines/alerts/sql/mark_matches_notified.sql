-- The matches a sent notification was about: its own match, or a digest's listing_ids.
UPDATE alert_matches m SET notified_at = now()
FROM notifications n
WHERE n.id = :id AND m.saved_search_id = n.saved_search_id
  AND (m.id = n.alert_match_id
       OR (n.alert_match_id IS NULL
           AND m.listing_id IN (SELECT CAST(jsonb_array_elements_text(n.data -> 'listing_ids') AS bigint))));
