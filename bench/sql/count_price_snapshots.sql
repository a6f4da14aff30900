SELECT count(*) FROM price_snapshots;
