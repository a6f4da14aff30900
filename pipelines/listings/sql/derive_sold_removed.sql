-- Sold: the latest sighting carries the vendor's sold marker (sold_at = start of that sold streak).
-- Removed: not sold, and missing from :removed_after complete scrapes of the vendor after its last
-- day (removed_at = the day of the :removed_after-th). missed_scrapes counts the complete scrapes
-- missed up to :removed_after and stops there: it saturates when the listing is removed.
-- A complete scrape is a parsed day whose scheduled searches all succeeded; failed days never
-- count, and neither do on-demand searches (request_id set): one query searched now says nothing
-- about the listings the day's scrape would find.
--
-- Cost grows with the listings of the vendor's recent days, not with its history or catalogue.
-- This day D can change a listing's state in two ways only: its sightings (the listings this
-- partition touched, affected_listings), and whether D counts as a complete scrape. The second
-- matters only to a listing whose last day L is before D with fewer than :removed_after complete
-- scrapes between L and D (exclusive): once :removed_after scrape days lie between them, the count
-- is saturated and the removal day is one of those, whatever D is. So besides the affected ones,
-- only listings last seen on or after B, the :removed_after-th complete scrape day before D, and
-- before D are re-derived (an index range on (vendor_id, last_seen_at)); with fewer scrape days
-- before D than that, every listing last seen before D. Every other listing keeps what it has.
-- A day's status therefore takes effect when that day's listings partition is published (as the
-- listings step does after every scrape of it), not at the next write of some other day.
-- That relies on the stored state having been derived with this :removed_after: a removed listing
-- whose missed_scrapes is not :removed_after, or a live one that has reached it, means it changed
-- (or the rows predate the saturating count), and then every listing of the vendor is re-derived
-- once. The affected listings are re-read from their sightings by index probes (latest sighting;
-- start of the sold streak, probed only when the latest sighting is sold); every other one's last
-- day and sold state are already in `listings`, derived from the same sightings when they were
-- last touched.
-- Only the scrape days these need are read, never the vendor's whole history: B is a backward walk
-- over the vendor's search days before D that stops at the :removed_after-th complete one, and the
-- missed scrapes of a last day L a forward walk from L that stops likewise (the first
-- :removed_after complete days after L give both the capped count and the removal day). Each walk
-- steps from day to day with one probe of searches (vendor_id, partition_date) and checks a day
-- with a probe of its searches and of one sighting (run-time pruning reads that day's month only).
-- Only when every listing is re-derived (stale state) does this touch every day, a few per last day.
-- Each probe of a listing's sightings starts at the day before its first_seen_at (derived from its
-- first sighting just before this), so run-time partition pruning skips the months before it.
-- CTEs are MATERIALIZED: statistics of rows written earlier in this transaction are unknown to
-- the planner. A day's sighting check is a scalar subquery (LIMIT 1), not EXISTS, which the planner
-- may turn into a semi join reading all of the vendor's sightings before the walk can stop.
WITH RECURSIVE
-- The vendor's search days before D, newest first: a backward skip scan, one probe of
-- (vendor_id, partition_date) per day, run only as far as `bound` reads it.
days_before(day) AS (
    SELECT max(s.partition_date) FROM searches s
    WHERE s.vendor_id = :vendor_id AND s.partition_date < CAST(:partition_date AS date)
    UNION ALL
    SELECT (SELECT max(s.partition_date) FROM searches s WHERE s.vendor_id = :vendor_id AND s.partition_date < w.day)
    FROM days_before w WHERE w.day IS NOT NULL
),
-- B, the :removed_after-th complete scrape day before D (NULL when there are fewer): the walk
-- stops at the :removed_after-th complete day it meets.
bound AS MATERIALIZED (
    SELECT CASE WHEN count(*) = CAST(:removed_after AS integer) THEN min(c.day) END AS day
    FROM (
        SELECT w.day FROM days_before w
        WHERE w.day IS NOT NULL
          AND (SELECT bool_and(s.status = 'success') FROM searches s
               WHERE s.vendor_id = :vendor_id AND s.partition_date = w.day AND s.request_id IS NULL)
          AND (SELECT true FROM listing_sightings s WHERE s.vendor_id = :vendor_id AND s.partition_date = w.day LIMIT 1)
        LIMIT CAST(:removed_after AS integer)
    ) c
),
-- State derived with another :removed_after (or before missed_scrapes saturated): partial indexes
-- on the removed and on the live listings answer these without reading the others.
stale AS MATERIALIZED (
    SELECT EXISTS (SELECT 1 FROM listings WHERE vendor_id = :vendor_id AND is_removed
                     AND missed_scrapes < CAST(:removed_after AS integer))
        OR EXISTS (SELECT 1 FROM listings WHERE vendor_id = :vendor_id AND is_removed
                     AND missed_scrapes > CAST(:removed_after AS integer))
        OR EXISTS (SELECT 1 FROM listings WHERE vendor_id = :vendor_id AND NOT is_sold AND NOT is_removed
                     AND missed_scrapes >= CAST(:removed_after AS integer)) AS rederive_all
),
-- The last_seen_at range of the listings (besides the affected ones) whose state D can change:
-- [B, D); everything before D when there is no B, everything when the state is stale.
bounds AS MATERIALIZED (
    SELECT CASE WHEN s.rederive_all THEN '-infinity'::timestamptz
                ELSE (coalesce(b.day, '-infinity'::date)::timestamp AT TIME ZONE 'UTC') END AS since,
           CASE WHEN s.rederive_all THEN 'infinity'::timestamptz
                ELSE (CAST(:partition_date AS date)::timestamp AT TIME ZONE 'UTC') END AS until
    FROM stale s CROSS JOIN bound b
),
recomputed AS MATERIALIZED (
    SELECT a.listing_id, latest.partition_date AS last_day, latest.is_sold AS latest_sold,
           -- CASE evaluates the probe only for a listing whose latest sighting is sold.
           CASE WHEN latest.is_sold THEN (
               SELECT s.seen_at FROM listing_sightings s
               WHERE s.listing_id = a.listing_id AND s.partition_date >= known.since
                 AND s.partition_date > coalesce((SELECT max(u.partition_date) FROM listing_sightings u
                                                 WHERE u.listing_id = a.listing_id AND NOT u.is_sold
                                                   AND u.partition_date >= known.since), '-infinity'::date)
               ORDER BY s.partition_date LIMIT 1) END AS sold_at
    FROM affected_listings a
    JOIN LATERAL (
        SELECT CAST((l.first_seen_at AT TIME ZONE 'UTC') AS date) - 1 AS since FROM listings l
        WHERE l.id = a.listing_id
    ) known ON true
    CROSS JOIN LATERAL (
        SELECT s.partition_date, s.is_sold FROM listing_sightings s
        WHERE s.listing_id = a.listing_id AND s.partition_date >= known.since
        ORDER BY s.partition_date DESC LIMIT 1
    ) latest
),
per_listing AS MATERIALIZED (
    SELECT listing_id, last_day, latest_sold, sold_at FROM recomputed
    UNION ALL
    SELECT l.id, (l.last_seen_at AT TIME ZONE 'UTC')::date, l.is_sold, l.sold_at
    FROM listings l
    WHERE l.vendor_id = :vendor_id
      AND l.last_seen_at >= (SELECT b.since FROM bounds b) AND l.last_seen_at < (SELECT b.until FROM bounds b)
      AND NOT EXISTS (SELECT 1 FROM affected_listings a WHERE a.listing_id = l.id)
),
-- Missed scrapes and the removal day depend on the last day L only: computed once per distinct
-- last day, from a forward skip scan of the vendor's search days after L that stops at the
-- :removed_after-th complete one (missed = how many it met, removed_day = that one).
per_day AS MATERIALIZED (
    SELECT x.last_day, a.missed, a.removed_day
    FROM (SELECT DISTINCT last_day FROM per_listing) x
    CROSS JOIN LATERAL (
        WITH RECURSIVE days_after(day) AS (
            SELECT min(s.partition_date) FROM searches s
            WHERE s.vendor_id = :vendor_id AND s.partition_date > x.last_day
            UNION ALL
            SELECT (SELECT min(s.partition_date) FROM searches s
                    WHERE s.vendor_id = :vendor_id AND s.partition_date > w.day)
            FROM days_after w WHERE w.day IS NOT NULL
        )
        SELECT CAST(count(*) AS integer) AS missed,
               CASE WHEN count(*) = CAST(:removed_after AS integer) THEN max(c.day) END AS removed_day
        FROM (
            SELECT w.day FROM days_after w
            WHERE w.day IS NOT NULL
              AND (SELECT bool_and(s.status = 'success') FROM searches s
                   WHERE s.vendor_id = :vendor_id AND s.partition_date = w.day AND s.request_id IS NULL)
              AND (SELECT true FROM listing_sightings s
                   WHERE s.vendor_id = :vendor_id AND s.partition_date = w.day LIMIT 1)
            LIMIT CAST(:removed_after AS integer)
        ) c
    ) a
),
missed AS MATERIALIZED (
    SELECT p.listing_id, p.latest_sold, p.sold_at, pd.missed, pd.removed_day
    FROM per_listing p JOIN per_day pd ON pd.last_day = p.last_day
)
UPDATE listings l SET missed_scrapes = s.missed, is_sold = s.is_sold, sold_at = s.sold_at,
                      is_removed = s.is_removed, removed_at = s.removed_at
FROM (
    SELECT m.listing_id, m.missed, m.latest_sold AS is_sold,
           CASE WHEN m.latest_sold THEN m.sold_at END AS sold_at,
           NOT m.latest_sold AND m.missed >= :removed_after AS is_removed,
           CASE WHEN NOT m.latest_sold AND m.missed >= :removed_after
                THEN (m.removed_day::timestamp AT TIME ZONE 'UTC') END AS removed_at
    FROM missed m
) s
WHERE l.id = s.listing_id
  AND (l.missed_scrapes, l.is_sold, l.sold_at, l.is_removed, l.removed_at)
      IS DISTINCT FROM (s.missed, s.is_sold, s.sold_at, s.is_removed, s.removed_at);
