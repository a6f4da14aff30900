-- The caller's notifications, newest first, keyset below :before_id; never the (sealed) target.
SELECT id, saved_search_id, title, body, status, attempts, target_label, created_at, sent_at
FROM notifications
WHERE user_id = :user_id AND id < CAST(:before_id AS bigint)
  AND (CAST(:status AS text) IS NULL OR status = :status)
ORDER BY id DESC
LIMIT CAST(:limit AS integer)
