-- Sold: the latest sighting carries the vendor's sold marker (sold_at = start of that sold streak).
-- Removed: not sold, and missing from the last :removed_after complete scrapes of the vendor.
-- A complete scrape is a parsed day whose searches all succeeded; failed days never count.
-- CTEs are MATERIALIZED: statistics of rows written earlier in this transaction are unknown to
-- the planner, which otherwise re-evaluates scrape_days once per listing and day.
WITH scrape_days AS MATERIALIZED (
    SELECT partition_date AS day FROM searches WHERE vendor_id = :vendor_id
    GROUP BY partition_date HAVING bool_and(status = 'success')
    INTERSECT
    SELECT DISTINCT partition_date FROM listing_sightings WHERE vendor_id = :vendor_id
),
per_listing AS MATERIALIZED (
    SELECT listing_id, max(partition_date) AS last_day,
           min(seen_at) FILTER (WHERE is_sold AND (last_unsold_day IS NULL OR partition_date > last_unsold_day))
               AS sold_at,
           bool_or(partition_date = latest_day AND is_sold) AS latest_sold
    FROM (
        SELECT listing_id, partition_date, seen_at, is_sold,
               max(partition_date) FILTER (WHERE NOT is_sold) OVER (PARTITION BY listing_id) AS last_unsold_day,
               max(partition_date) OVER (PARTITION BY listing_id) AS latest_day
        FROM listing_sightings WHERE vendor_id = :vendor_id
    ) sightings
    GROUP BY listing_id
),
missed AS MATERIALIZED (
    SELECT p.listing_id, count(d.day) AS missed,
           (array_agg(d.day ORDER BY d.day) FILTER (WHERE d.day IS NOT NULL))[CAST(:removed_after AS integer)]
               AS removed_day
    FROM per_listing p LEFT JOIN scrape_days d ON d.day > p.last_day
    GROUP BY p.listing_id
)
UPDATE listings l SET missed_scrapes = s.missed, is_sold = s.is_sold, sold_at = s.sold_at,
                      is_removed = s.is_removed, removed_at = s.removed_at
FROM (
    SELECT p.listing_id, m.missed, p.latest_sold AS is_sold,
           CASE WHEN p.latest_sold THEN p.sold_at END AS sold_at,
           NOT p.latest_sold AND m.missed >= :removed_after AS is_removed,
           CASE WHEN NOT p.latest_sold AND m.missed >= :removed_after
                THEN (m.removed_day::timestamp AT TIME ZONE 'UTC') END AS removed_at
    FROM per_listing p JOIN missed m USING (listing_id)
) s
WHERE l.id = s.listing_id
  AND (l.missed_scrapes, l.is_sold, l.sold_at, l.is_removed, l.removed_at)
      IS DISTINCT FROM (s.missed, s.is_sold, s.sold_at, s.is_removed, s.removed_at);
