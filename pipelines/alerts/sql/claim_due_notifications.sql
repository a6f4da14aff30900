-- Claim up to :limit due notifications for this run (token :claim, lease :lease seconds);
-- rows another run holds are skipped, and a row is tried at most once per run.
WITH due AS (
    SELECT id FROM notifications
    WHERE status IN ('pending', 'sending') AND next_attempt_at <= now() AND attempts < :max_attempts
      AND (data ->> 'claim') IS DISTINCT FROM CAST(:claim AS text)
    ORDER BY next_attempt_at, id
    LIMIT :limit
    FOR UPDATE SKIP LOCKED
)
UPDATE notifications n
SET status = 'sending', attempts = n.attempts + 1,
    next_attempt_at = now() + make_interval(secs => :lease),
    data = n.data || jsonb_build_object('claim', CAST(:claim AS text), 'claimed_at', now())
FROM due WHERE n.id = due.id
RETURNING n.id, n.dedupe_key, n.target, n.target_label, n.title, n.body, n.data, n.attempts, n.saved_search_id,
          n.alert_match_id;
