-- Every vendor of the catalogue with what the warehouse holds of it.
SELECT v.id, v.name, v.display_name, v.base_url, v.country, v.currency, v.is_active,
       (SELECT count(*) FROM listings l WHERE l.vendor_id = v.id AND NOT l.is_sold AND NOT l.is_removed) AS active_listings,
       (SELECT max(l.last_seen_at) FROM listings l WHERE l.vendor_id = v.id) AS last_seen_at
FROM vendors v
ORDER BY v.name
