COPY alert_outbox (seq, saved_search_id, user_id, dedupe_key, target, title, body, data) FROM STDIN;
