UPDATE saved_searches SET last_checked_at = now(),
       last_matched_at = CASE WHEN id = ANY(:matched) THEN now() ELSE last_matched_at END
WHERE id = ANY(:checked);
