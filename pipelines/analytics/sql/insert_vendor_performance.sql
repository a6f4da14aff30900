-- One row per vendor and day of the window that had searches or sightings.
--
-- total_searches: searches run (one per tracked query); success_rate: share that ended
-- 'success'; error_count: searches that ended 'partial' or 'failed'; avg/p95_duration_ms: of
-- the searches' wall time (p95 interpolated, percentile_cont); cache_hits: searches answered
-- from cache (searches.cache_hit); requests, bytes, browser_seconds: summed over searches.
-- compute_units: 1 CU = 1 minute of fetch time = sum(duration_ms) / 60000.
-- total_listings: distinct listings sighted that day; new_listings: of those, sighted for the
-- first time; sold_listings / removed_listings: listings whose sold_at / removed_at falls on
-- the day (UTC), as the listings asset derives them.
INSERT INTO vendor_performance (vendor_id, date, total_searches, total_listings, new_listings, sold_listings,
                                removed_listings, avg_duration_ms, p95_duration_ms, success_rate, error_count,
                                cache_hits, requests, bytes, browser_seconds, compute_units)
WITH bounds AS (
    SELECT CAST(:start AS date) AS first_day, CAST(:end AS date) AS end_day,
           CAST(CAST(:start AS date) AS timestamp) AT TIME ZONE 'UTC' AS t0,
           CAST(CAST(:end AS date) AS timestamp) AT TIME ZONE 'UTC' AS t1
),
runs AS (
    SELECT s.vendor_id, s.partition_date AS day, count(*) AS searches,
           avg(s.duration_ms) AS avg_ms,
           percentile_cont(0.95) WITHIN GROUP (ORDER BY s.duration_ms) AS p95_ms,
           count(*) FILTER (WHERE s.status = 'success') AS ok,
           count(*) FILTER (WHERE s.status <> 'success') AS errors,
           count(*) FILTER (WHERE s.cache_hit) AS cache_hits,
           sum(s.requests) AS requests, sum(s.bytes) AS bytes, sum(s.browser_seconds) AS browser_seconds,
           coalesce(sum(s.duration_ms), 0) AS fetch_ms
    FROM searches s, bounds b
    WHERE s.partition_date >= b.first_day AND s.partition_date < b.end_day
    GROUP BY s.vendor_id, s.partition_date
),
-- first day each listing seen in the window was ever sighted (all its history, via its index)
firsts AS (
    SELECT s.listing_id, min(s.partition_date) AS first_day
    FROM listing_sightings s
    WHERE s.listing_id IN (SELECT w.listing_id FROM listing_sightings w, bounds b
                           WHERE w.partition_date >= b.first_day AND w.partition_date < b.end_day)
    GROUP BY s.listing_id
),
seen AS (
    SELECT s.vendor_id, s.partition_date AS day, count(*) AS listings,
           count(*) FILTER (WHERE f.first_day = s.partition_date) AS new_listings
    FROM listing_sightings s
    JOIN firsts f USING (listing_id)
    CROSS JOIN bounds b
    WHERE s.partition_date >= b.first_day AND s.partition_date < b.end_day
    GROUP BY s.vendor_id, s.partition_date
),
sold AS (
    SELECT l.vendor_id, CAST(l.sold_at AT TIME ZONE 'UTC' AS date) AS day, count(*) AS n
    FROM listings l, bounds b
    WHERE l.sold_at >= b.t0 AND l.sold_at < b.t1
    GROUP BY 1, 2
),
removed AS (
    SELECT l.vendor_id, CAST(l.removed_at AT TIME ZONE 'UTC' AS date) AS day, count(*) AS n
    FROM listings l, bounds b
    WHERE l.removed_at >= b.t0 AND l.removed_at < b.t1
    GROUP BY 1, 2
),
keys AS (
    SELECT vendor_id, day FROM runs UNION SELECT vendor_id, day FROM seen
    UNION SELECT vendor_id, day FROM sold UNION SELECT vendor_id, day FROM removed
)
SELECT k.vendor_id, k.day,
       coalesce(r.searches, 0), coalesce(s.listings, 0), coalesce(s.new_listings, 0),
       coalesce(so.n, 0), coalesce(rm.n, 0),
       r.avg_ms, r.p95_ms,
       CASE WHEN r.searches > 0 THEN round(CAST(r.ok AS numeric) / r.searches, 4) END,
       coalesce(r.errors, 0), coalesce(r.cache_hits, 0), coalesce(r.requests, 0), coalesce(r.bytes, 0),
       coalesce(r.browser_seconds, 0), round(coalesce(r.fetch_ms, 0) / 60000.0, 4)
FROM keys k
LEFT JOIN runs r USING (vendor_id, day)
LEFT JOIN seen s USING (vendor_id, day)
LEFT JOIN sold so USING (vendor_id, day)
LEFT JOIN removed rm USING (vendor_id, day);
