-- Lapsed sending leases with no attempts left: the send may or may not have happened, so the
-- message is marked failed instead of being sent again.
UPDATE notifications
SET status = 'failed',
    last_error = 'delivery outcome unknown: the run sending attempt ' || attempts
                 || ' stopped before recording it, and no attempts are left'
WHERE status = 'sending' AND next_attempt_at <= now() AND attempts >= :max_attempts;
