-- Changed matches; an update whose last_notified_price moved since the decision does not fire.
-- The data expression is the same as in insert_alert_matches.sql: keep the two alike.
WITH updated AS (
    UPDATE alert_matches m SET last_notified_price = e.price,
           data = m.data
                  || jsonb_build_object('last_notified_currency', e.currency,
                                        'below_market_notified', e.below_market_notified)
                  || CASE WHEN e.rule IN ('new_match', 'price_drop', 'below_market')
                          THEN jsonb_build_object('last_rule', e.rule, 'last_event_at', now()) ELSE '{}'::jsonb END
    FROM alert_events e
    WHERE e.action = 'update' AND m.saved_search_id = e.saved_search_id AND m.listing_id = e.listing_id
      AND m.last_notified_price IS NOT DISTINCT FROM e.expected_price
    RETURNING e.seq, m.id
)
INSERT INTO alert_fired (seq, match_id) SELECT seq, id FROM updated;
