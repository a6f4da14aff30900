-- Per query: the median number of listings its search returned (search results) over the
-- vendor's published days in [:since, :partition_date), and on how many of those days it ran
-- successfully. Days whose listings were never published do not count.
-- Index probes only (a day's sightings, a search's results), whatever the length of history:
-- written as joins, the planner scanned every search result of the vendor.
WITH published_days AS MATERIALIZED (
    SELECT CAST(d AS date) AS partition_date
    FROM generate_series(CAST(:since AS date), CAST(:partition_date AS date) - 1, interval '1 day') d
    WHERE EXISTS (SELECT 1 FROM listing_sightings s
                  WHERE s.vendor_id = :vendor_id AND s.partition_date = CAST(d AS date))
),
recent AS MATERIALIZED (
    SELECT s.id, s.query, s.partition_date FROM searches s
    WHERE s.vendor_id = :vendor_id AND s.status = 'success'
      AND s.partition_date IN (SELECT partition_date FROM published_days)
)
SELECT r.query, count(*) AS days, percentile_cont(0.5) WITHIN GROUP (ORDER BY found.listings) AS median
FROM recent r
CROSS JOIN LATERAL (SELECT count(*) AS listings FROM search_results x
                         WHERE x.search_id = r.id AND x.partition_date = r.partition_date) found
GROUP BY r.query;
