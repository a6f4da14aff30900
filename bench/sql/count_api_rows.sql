SELECT (SELECT count(*) FROM listings) AS listings, (SELECT count(*) FROM price_observations) AS observations,
       (SELECT count(*) FROM price_snapshots) AS snapshots
