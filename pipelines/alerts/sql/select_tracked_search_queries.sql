-- Queries of active saved searches of active users, with the vendors they are limited to.
SELECT s.query, s.criteria -> 'vendors' AS vendors
FROM saved_searches s JOIN users u ON u.id = s.user_id
WHERE s.is_active AND u.is_active AND btrim(s.query) <> '';
