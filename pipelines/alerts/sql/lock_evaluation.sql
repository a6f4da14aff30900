-- One alert evaluation at a time (transaction-scoped advisory lock): decisions read
-- alert_matches and write it back in one transaction.
SELECT pg_advisory_xact_lock(:key);
