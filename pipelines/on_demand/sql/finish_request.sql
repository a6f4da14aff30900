UPDATE search_requests
SET status = :status, pages = :pages, results = :results, error = :error, completed_at = now()
WHERE id = :id;
