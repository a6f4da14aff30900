-- How many notifications are due, and a fingerprint of (id, attempts) of the first 1000 of them
-- (the retry sensor's run key changes only when the due set does).
SELECT count(*) AS due, coalesce(string_agg(id || ':' || attempts, ',' ORDER BY id), '') AS fingerprint
FROM (SELECT id, attempts FROM notifications
      WHERE status IN ('pending', 'sending') AND next_attempt_at <= now()
      ORDER BY id LIMIT 1000) d;
