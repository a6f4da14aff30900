-- first/last seen and the latest price and title, from all sightings of the affected listings.
UPDATE listings l SET
    first_seen_at = d.first_seen_at, last_seen_at = d.last_seen_at,
    title = d.title, price = d.price, currency = d.currency, price_kind = d.price_kind
FROM (
    SELECT DISTINCT ON (s.listing_id) s.listing_id,
           min(s.seen_at) OVER (PARTITION BY s.listing_id) AS first_seen_at,
           s.seen_at AS last_seen_at, s.title, s.price, s.currency, s.price_kind
    FROM listing_sightings s JOIN affected_listings a USING (listing_id)
    ORDER BY s.listing_id, s.partition_date DESC
) d
WHERE l.id = d.listing_id
  AND (l.first_seen_at, l.last_seen_at, l.title, l.price, l.currency, l.price_kind)
      IS DISTINCT FROM (d.first_seen_at, d.last_seen_at, d.title, d.price, d.currency, d.price_kind);

-- Price history: a row whenever the price (or currency) differs from the previous sighting.
DELETE FROM price_observations p USING affected_listings a WHERE p.listing_id = a.listing_id;
INSERT INTO price_observations (listing_id, observed_at, observed_date, price, currency)
SELECT listing_id, seen_at, partition_date, price, currency
FROM (
    SELECT s.*, row_number() OVER w AS n, lag(s.price) OVER w AS previous_price,
           lag(s.currency) OVER w AS previous_currency
    FROM listing_sightings s JOIN affected_listings a USING (listing_id)
    WINDOW w AS (PARTITION BY s.listing_id ORDER BY s.partition_date)
) history
WHERE n = 1 OR price IS DISTINCT FROM previous_price OR currency IS DISTINCT FROM previous_currency;
