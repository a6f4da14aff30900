-- Rows seeded for bench/backfill.py, one column per table.
SELECT (SELECT count(*) FROM listing_sightings) AS listing_sightings,
       (SELECT count(*) FROM searches) AS searches,
       (SELECT count(*) FROM search_results) AS search_results;
