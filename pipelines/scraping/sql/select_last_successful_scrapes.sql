-- Each active vendor's last successful search (NULL when it never had one).
SELECT v.name, max(s.completed_at) AS last_success
FROM vendors v LEFT JOIN searches s ON s.vendor_id = v.id AND s.status = 'success'
WHERE v.is_active GROUP BY v.name ORDER BY v.name;
