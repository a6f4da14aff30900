-- The latest :limit notifications, optionally of one status and of one saved search (id or name).
SELECT n.id, n.created_at, n.status, n.attempts, n.target_label, n.title, n.last_error, n.next_attempt_at,
       n.sent_at, s.name AS search, u.username
FROM notifications n
LEFT JOIN saved_searches s ON s.id = n.saved_search_id
LEFT JOIN users u ON u.id = n.user_id
WHERE (CAST(:status AS text) IS NULL OR n.status = CAST(:status AS text))
  AND (CAST(:search AS text) IS NULL OR s.name = CAST(:search AS text) OR CAST(s.id AS text) = :search)
ORDER BY n.updated_at DESC, n.id DESC
LIMIT :limit;
