-- Each saved search (of :user, when given) with its matches, its latest match, and its outbox:
-- messages per status, last sent, last error.
SELECT s.id, u.username, s.name, s.query, s.criteria, s.notification_settings, s.is_active,
       s.last_checked_at, s.last_matched_at,
       m.matches, lm.event_at AS last_match_at, lm.rule AS last_match_rule, lm.title AS last_match_title,
       coalesce(n.sent, 0) AS sent, coalesce(n.pending, 0) AS pending, coalesce(n.sending, 0) AS sending,
       coalesce(n.failed, 0) AS failed, n.last_sent_at, ne.last_error
FROM saved_searches s JOIN users u ON u.id = s.user_id
LEFT JOIN LATERAL (SELECT count(*) FILTER (WHERE data ? 'last_rule') AS matches
                   FROM alert_matches WHERE saved_search_id = s.id) m ON true
LEFT JOIN LATERAL (SELECT CAST(am.data ->> 'last_event_at' AS timestamptz) AS event_at,
                          am.data ->> 'last_rule' AS rule, l.title
                   FROM alert_matches am JOIN listings l ON l.id = am.listing_id
                   WHERE am.saved_search_id = s.id AND am.data ? 'last_rule'
                   ORDER BY CAST(am.data ->> 'last_event_at' AS timestamptz) DESC, am.id DESC
                   LIMIT 1) lm ON true
LEFT JOIN LATERAL (SELECT count(*) FILTER (WHERE status = 'sent') AS sent,
                          count(*) FILTER (WHERE status = 'pending') AS pending,
                          count(*) FILTER (WHERE status = 'sending') AS sending,
                          count(*) FILTER (WHERE status = 'failed') AS failed,
                          max(sent_at) AS last_sent_at
                   FROM notifications WHERE saved_search_id = s.id) n ON true
LEFT JOIN LATERAL (SELECT last_error FROM notifications
                   WHERE saved_search_id = s.id AND status IN ('failed', 'pending') AND last_error IS NOT NULL
                   ORDER BY updated_at DESC LIMIT 1) ne ON true
WHERE CAST(:user AS text) IS NULL OR u.username = CAST(:user AS text)
ORDER BY u.username, s.name;
