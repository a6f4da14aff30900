-- first/last seen and the latest price and title, from the first and the latest sightings of the
-- affected listings: two index probes each on (listing_id, partition_date), whatever the history
-- length (a sighting's seen_at always falls on its partition's day, so earliest day = min(seen_at)).
-- Every probe has a lower bound on partition_date, so run-time partition pruning leaves only the
-- months since the listing's first sighting (a merge of every month partition's index otherwise:
-- one index descent per month of history, per listing). The first sighting is looked for from the
-- earlier of the stored first_seen_at's day (derived from the same sightings when the listing was
-- last touched; only this day's sightings changed since) and this day, less a day; the latest one
-- from the first.
UPDATE listings l SET
    first_seen_at = d.first_seen_at, last_seen_at = d.last_seen_at,
    title = d.title, price = d.price, currency = d.currency, price_kind = d.price_kind
FROM (
    SELECT a.listing_id, first_sighting.seen_at AS first_seen_at, latest.seen_at AS last_seen_at,
           latest.title, latest.price, latest.currency, latest.price_kind
    FROM affected_listings a
    JOIN listings known ON known.id = a.listing_id
    CROSS JOIN LATERAL (
        SELECT s.partition_date, s.seen_at FROM listing_sightings s
        WHERE s.listing_id = a.listing_id
          AND s.partition_date >= least(CAST((known.first_seen_at AT TIME ZONE 'UTC') AS date),
                                        CAST(:partition_date AS date)) - 1
        ORDER BY s.partition_date LIMIT 1
    ) first_sighting
    CROSS JOIN LATERAL (
        SELECT s.seen_at, s.title, s.price, s.currency, s.price_kind FROM listing_sightings s
        WHERE s.listing_id = a.listing_id AND s.partition_date >= first_sighting.partition_date
        ORDER BY s.partition_date DESC LIMIT 1
    ) latest
) d
WHERE l.id = d.listing_id
  AND (l.first_seen_at, l.last_seen_at, l.title, l.price, l.currency, l.price_kind)
      IS DISTINCT FROM (d.first_seen_at, d.last_seen_at, d.title, d.price, d.currency, d.price_kind);

-- Price history: a row whenever the price (or currency) differs from the previous sighting.
-- Replacing this day's sightings can only change observations from this day on, so only those
-- are rebuilt, from the last sighting before this day (for the comparison) onwards: a daily run
-- touches a day or two of history per listing, not all of it.
DELETE FROM price_observations p USING affected_listings a
WHERE p.listing_id = a.listing_id AND p.observed_date >= :partition_date;
INSERT INTO price_observations (listing_id, observed_at, observed_date, price, currency)
SELECT listing_id, seen_at, partition_date, price, currency
FROM (
    SELECT s.listing_id, s.partition_date, s.seen_at, s.price, s.currency,
           lag(s.partition_date) OVER w AS previous_day, lag(s.price) OVER w AS previous_price,
           lag(s.currency) OVER w AS previous_currency
    FROM affected_listings a
    -- first_seen_at is the first sighting's (just derived): the lower bound that prunes older months
    JOIN listings known ON known.id = a.listing_id
    CROSS JOIN LATERAL (
        SELECT coalesce(max(b.partition_date), '-infinity'::date) AS since FROM listing_sightings b
        WHERE b.listing_id = a.listing_id AND b.partition_date < :partition_date
          AND b.partition_date >= CAST((known.first_seen_at AT TIME ZONE 'UTC') AS date) - 1
    ) before_day
    -- An index range per listing (OFFSET 0 keeps the planner from flattening it into a join):
    -- as a join it merge-joined the whole sightings index, 1.3 s at a year of history.
    CROSS JOIN LATERAL (
        SELECT s.listing_id, s.partition_date, s.seen_at, s.price, s.currency FROM listing_sightings s
        WHERE s.listing_id = a.listing_id AND s.partition_date >= before_day.since
        OFFSET 0
    ) s
    WINDOW w AS (PARTITION BY s.listing_id ORDER BY s.partition_date)
) history
WHERE partition_date >= :partition_date
  AND (previous_day IS NULL OR price IS DISTINCT FROM previous_price OR currency IS DISTINCT FROM previous_currency);
