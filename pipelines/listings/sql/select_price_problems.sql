-- Priced sightings without a price, and negative prices, of one (vendor, day) partition.
SELECT count(*) FILTER (WHERE s.price_kind = 'priced' AND s.price IS NULL) AS priced_without_price,
       count(*) FILTER (WHERE s.price < 0) AS negative,
       count(*) FILTER (WHERE s.price_kind = 'priced') AS priced,
       count(*) AS sightings,
       array_agg(l.external_id ORDER BY l.external_id) FILTER (
           WHERE (s.price_kind = 'priced' AND s.price IS NULL) OR s.price < 0) AS examples
FROM listing_sightings s JOIN listings l ON l.id = s.listing_id
WHERE s.vendor_id = :vendor_id AND s.partition_date = :day;
