-- Rows and bytes (heap, indexes, TOAST, all partitions) of the two biggest history tables.
SELECT (SELECT count(*) FROM listing_sightings) AS sightings,
       (SELECT count(*) FROM price_observations) AS observations,
       (SELECT sum(pg_total_relation_size(inhrelid)) FROM pg_inherits
        WHERE inhparent = CAST('listing_sightings' AS regclass)) AS sightings_bytes,
       (SELECT sum(pg_total_relation_size(inhrelid)) FROM pg_inherits
        WHERE inhparent = CAST('price_observations' AS regclass)) AS observations_bytes;
