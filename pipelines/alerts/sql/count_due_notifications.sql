-- What a delivery run would send now: pending and due, or a lapsed sending lease.
SELECT count(*) FROM notifications
WHERE status IN ('pending', 'sending') AND next_attempt_at <= now();
