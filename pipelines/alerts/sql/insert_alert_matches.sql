-- New matches; an insert that meets an existing row does not fire. The data expression is the
-- same as in update_alert_matches.sql: keep the two alike.
WITH inserted AS (
    INSERT INTO alert_matches AS m
        (saved_search_id, listing_id, user_id, rule, price_at_match, last_notified_price, data)
    SELECT e.saved_search_id, e.listing_id, e.user_id, e.rule, e.price, e.price,
           jsonb_build_object('last_notified_currency', e.currency,
                              'below_market_notified', e.below_market_notified)
           || CASE WHEN e.rule IN ('new_match', 'price_drop', 'below_market')
                   THEN jsonb_build_object('last_rule', e.rule, 'last_event_at', now()) ELSE '{}'::jsonb END
    FROM alert_events e WHERE e.action = 'insert'
    ON CONFLICT (saved_search_id, listing_id) DO NOTHING
    RETURNING m.id, m.saved_search_id, m.listing_id
)
INSERT INTO alert_fired (seq, match_id)
SELECT e.seq, i.id FROM inserted i
JOIN alert_events e ON e.saved_search_id = i.saved_search_id AND e.listing_id = i.listing_id AND e.action = 'insert';
