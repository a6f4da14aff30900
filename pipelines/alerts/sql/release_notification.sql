-- Give a claimed, unsent notification back: pending, due now, the attempt not counted.
UPDATE notifications SET status = 'pending', attempts = attempts - 1, next_attempt_at = now()
WHERE id = :id AND status = 'sending' AND data ->> 'claim' = :claim;
