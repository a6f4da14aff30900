-- Staging of one evaluation's writes: the decided events, the messages they queue, and the
-- events that really fired (their alert_matches row). Dropped at commit.
DROP TABLE IF EXISTS pg_temp.alert_events, pg_temp.alert_outbox, pg_temp.alert_fired;
CREATE TEMP TABLE alert_events (
    seq bigint PRIMARY KEY, saved_search_id bigint NOT NULL, listing_id bigint NOT NULL, user_id bigint NOT NULL,
    action text NOT NULL, rule text NOT NULL, price numeric(16, 3), currency text NOT NULL,
    expected_price numeric(16, 3), below_market_notified boolean NOT NULL
) ON COMMIT DROP;
CREATE TEMP TABLE alert_outbox (
    seq bigint, saved_search_id bigint NOT NULL, user_id bigint NOT NULL, dedupe_key text NOT NULL,
    target text NOT NULL, target_label text NOT NULL, title text NOT NULL, body text NOT NULL, data jsonb NOT NULL
) ON COMMIT DROP;
CREATE TEMP TABLE alert_fired (seq bigint PRIMARY KEY, match_id bigint NOT NULL) ON COMMIT DROP;
