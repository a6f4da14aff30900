-- Month partitions of every history table from :first_day's month to :last_day's (the function is
-- made by migration 0011; it runs as the owner, for a caller allowed to write the tables).
SELECT ensure_history_partitions(CAST(:first_day AS date), CAST(:last_day AS date));
