-- Detach one month partition and drop it (made by migration 0011; DDL, so the owner role's rights).
SELECT drop_history_partition(CAST(:partition AS regclass));
