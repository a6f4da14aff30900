COPY alert_events (seq, saved_search_id, listing_id, user_id, action, rule, price, currency, expected_price,
                   below_market_notified) FROM STDIN;
