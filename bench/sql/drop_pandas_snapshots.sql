DROP TABLE IF EXISTS pandas_snapshots;
