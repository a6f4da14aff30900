-- Per query: the median number of listings its search returned (search results) over the
-- vendor's published days in [:since, :partition_date), and on how many of those days it ran
-- successfully. Days whose listings were never published do not count.
WITH published_days AS (
    SELECT DISTINCT partition_date FROM listing_sightings
    WHERE vendor_id = :vendor_id AND partition_date >= :since AND partition_date < :partition_date
),
per_day AS (
    SELECT s.query, count(r.search_id) AS listings
    FROM searches s
    JOIN published_days d ON d.partition_date = s.partition_date
    LEFT JOIN search_results r ON r.search_id = s.id
    WHERE s.vendor_id = :vendor_id AND s.status = 'success'
    GROUP BY s.id, s.query
)
SELECT query, count(*) AS days, percentile_cont(0.5) WITHIN GROUP (ORDER BY listings) AS median
FROM per_day
GROUP BY query;
