-- Fenced by the claim token: a run whose lease was taken over changes nothing.
UPDATE notifications SET status = 'sent', sent_at = now(), last_error = NULL
WHERE id = :id AND status = 'sending' AND data ->> 'claim' = :claim;
