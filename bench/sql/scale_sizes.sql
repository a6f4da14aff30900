-- Rows (as the last VACUUM / ANALYZE counted them) and bytes (heap, indexes, TOAST) of every
-- partition of the two biggest history tables, and the listings.
SELECT (SELECT sum(greatest(c.reltuples, 0)) FROM pg_inherits h JOIN pg_class c ON c.oid = h.inhrelid
        WHERE h.inhparent = CAST('listing_sightings' AS regclass)) AS sightings,
       (SELECT sum(greatest(c.reltuples, 0)) FROM pg_inherits h JOIN pg_class c ON c.oid = h.inhrelid
        WHERE h.inhparent = CAST('price_observations' AS regclass)) AS observations,
       (SELECT greatest(reltuples, 0) FROM pg_class WHERE oid = CAST('listings' AS regclass)) AS listings,
       (SELECT count(*) FROM pg_inherits WHERE inhparent = CAST('listing_sightings' AS regclass)) AS sighting_partitions,
       (SELECT sum(pg_total_relation_size(inhrelid)) FROM pg_inherits
        WHERE inhparent = CAST('listing_sightings' AS regclass)) AS sightings_bytes,
       (SELECT sum(pg_total_relation_size(inhrelid)) FROM pg_inherits
        WHERE inhparent = CAST('price_observations' AS regclass)) AS observations_bytes;
