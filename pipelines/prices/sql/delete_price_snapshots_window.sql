-- The window's snapshots go; insert_price_snapshots.sql writes them again (same transaction).
DELETE FROM price_snapshots
WHERE snapshot_date >= CAST(:start AS date) AND snapshot_date < CAST(:end AS date);
