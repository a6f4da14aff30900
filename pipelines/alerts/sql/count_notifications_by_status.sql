SELECT status, count(*) AS n FROM notifications GROUP BY status ORDER BY status;
