SELECT
    (SELECT count(*) FROM listing_sightings WHERE vendor_id = :vendor_id AND partition_date = :partition_date) AS seen,
    (SELECT count(*) FROM listings l JOIN listing_sightings s ON s.listing_id = l.id
      WHERE s.vendor_id = :vendor_id AND s.partition_date = :partition_date
        AND l.first_seen_at = s.seen_at) AS new,
    (SELECT count(*) FROM price_observations p JOIN listings l ON l.id = p.listing_id
      WHERE l.vendor_id = :vendor_id AND p.observed_date = :partition_date
        AND p.observed_at > l.first_seen_at) AS price_changed,
    (SELECT count(*) FROM listings WHERE vendor_id = :vendor_id
        AND sold_at >= CAST(:partition_date AS date) AND sold_at < CAST(:partition_date AS date) + 1) AS sold,
    (SELECT count(*) FROM listings WHERE vendor_id = :vendor_id
        AND removed_at >= CAST(:partition_date AS date) AND removed_at < CAST(:partition_date AS date) + 1) AS removed,
    (SELECT count(*) FROM listings WHERE vendor_id = :vendor_id AND NOT is_sold AND NOT is_removed) AS active
