COPY alert_outbox (seq, saved_search_id, user_id, dedupe_key, target, target_label, title, body, data) FROM STDIN;
