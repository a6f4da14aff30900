-- A failed send: retried after :backoff seconds, or failed for good when permanent or out of
-- attempts. Fenced by the claim token; returns the new status.
UPDATE notifications
SET status = CASE WHEN attempts >= :max_attempts OR :permanent THEN 'failed' ELSE 'pending' END,
    last_error = :error, next_attempt_at = now() + make_interval(secs => :backoff)
WHERE id = :id AND status = 'sending' AND data ->> 'claim' = :claim
RETURNING status;
