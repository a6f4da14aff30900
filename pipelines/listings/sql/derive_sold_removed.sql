-- Sold: the latest sighting carries the vendor's sold marker (sold_at = start of that sold streak).
-- Removed: not sold, and missing from the last :removed_after complete scrapes of the vendor.
-- A complete scrape is a parsed day whose searches all succeeded; failed days never count.
WITH scrape_days AS (
    SELECT partition_date AS day FROM searches WHERE vendor_id = :vendor_id
    GROUP BY partition_date HAVING bool_and(status = 'success')
    INTERSECT
    SELECT DISTINCT partition_date FROM listing_sightings WHERE vendor_id = :vendor_id
),
per_listing AS (
    SELECT listing_id, max(partition_date) AS last_day,
           max(partition_date) FILTER (WHERE NOT is_sold) AS last_unsold_day
    FROM listing_sightings WHERE vendor_id = :vendor_id GROUP BY listing_id
),
sold AS (
    SELECT s.listing_id, min(s.seen_at) AS sold_at
    FROM listing_sightings s JOIN per_listing p USING (listing_id)
    WHERE s.vendor_id = :vendor_id AND s.is_sold
      AND (p.last_unsold_day IS NULL OR s.partition_date > p.last_unsold_day)
    GROUP BY s.listing_id
),
missed AS (
    SELECT p.listing_id, count(d.day) AS missed,
           (array_agg(d.day ORDER BY d.day) FILTER (WHERE d.day IS NOT NULL))[CAST(:removed_after AS integer)] AS removed_day
    FROM per_listing p LEFT JOIN scrape_days d ON d.day > p.last_day
    GROUP BY p.listing_id
),
state AS (
    SELECT p.listing_id, m.missed, so.sold_at,
           so.sold_at IS NOT NULL AS is_sold,
           so.sold_at IS NULL AND m.missed >= :removed_after AS is_removed,
           CASE WHEN so.sold_at IS NULL AND m.missed >= :removed_after
                THEN (m.removed_day::timestamp AT TIME ZONE 'UTC') END AS removed_at
    FROM per_listing p JOIN missed m USING (listing_id) LEFT JOIN sold so USING (listing_id)
)
UPDATE listings l SET missed_scrapes = s.missed, is_sold = s.is_sold, sold_at = s.sold_at,
                      is_removed = s.is_removed, removed_at = s.removed_at
FROM state s
WHERE l.id = s.listing_id
  AND (l.missed_scrapes, l.is_sold, l.sold_at, l.is_removed, l.removed_at)
      IS DISTINCT FROM (s.missed, s.is_sold, s.sold_at, s.is_removed, s.removed_at);
