-- The user's latest identical search (same query key, same vendors) younger than :max_age_minutes
-- that finished or is still running (and not abandoned): a new one would fetch the same pages again.
SELECT id FROM search_requests
WHERE user_id IS NOT DISTINCT FROM CAST(:user_id AS bigint)
  AND query_key = :query_key AND vendors = CAST(:vendors AS text[])
  AND (status = 'done' OR (status = 'running' AND created_at > now() - make_interval(mins => :abandoned_after)))
  AND created_at > now() - make_interval(mins => :max_age_minutes)
ORDER BY created_at DESC, id DESC
LIMIT 1;
