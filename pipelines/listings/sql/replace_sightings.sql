-- Listings touched by this partition: those it saw before (old parse) and those it sees now.
CREATE TEMP TABLE affected_listings ON COMMIT DROP AS
    SELECT listing_id FROM listing_sightings WHERE vendor_id = :vendor_id AND partition_date = :partition_date
    UNION
    SELECT l.id FROM listings l JOIN staged_items s ON l.vendor_id = :vendor_id AND l.external_id = s.external_id;

DELETE FROM listing_sightings WHERE vendor_id = :vendor_id AND partition_date = :partition_date;

INSERT INTO listing_sightings (listing_id, vendor_id, partition_date, seen_at, price, currency, price_kind,
                               is_sold, title)
SELECT l.id, :vendor_id, :partition_date, s.seen_at, s.price, s.currency, s.price_kind, s.is_sold, s.title
FROM staged_items s JOIN listings l ON l.vendor_id = :vendor_id AND l.external_id = s.external_id;

-- A listing only an earlier parse of this day believed in (e.g. before a parser fix) is gone.
-- Only listings this parse did not see can be (it just wrote a sighting of the others): those are
-- checked for any sighting left, a probe per month partition; a daily run has none to check.
WITH unseen_now AS MATERIALIZED (
    SELECT a.listing_id FROM affected_listings a JOIN listings l ON l.id = a.listing_id
    WHERE NOT EXISTS (SELECT 1 FROM staged_items s WHERE s.external_id = l.external_id)
)
DELETE FROM listings l USING unseen_now u
WHERE l.id = u.listing_id
  AND NOT EXISTS (SELECT 1 FROM listing_sightings s WHERE s.listing_id = l.id);
