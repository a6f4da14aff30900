-- Queue the staged messages whose event fired (digests, with no event, always); a dedupe_key
-- that exists already is skipped.
INSERT INTO notifications (user_id, saved_search_id, alert_match_id, dedupe_key, target, target_label, title, body,
                           data)
SELECT o.user_id, o.saved_search_id, f.match_id, o.dedupe_key, o.target, o.target_label, o.title, o.body, o.data
FROM alert_outbox o LEFT JOIN alert_fired f ON f.seq = o.seq
WHERE o.seq IS NULL OR f.match_id IS NOT NULL
ORDER BY o.saved_search_id, o.seq NULLS LAST, o.dedupe_key
ON CONFLICT (dedupe_key) DO NOTHING;
