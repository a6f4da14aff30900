-- A listing's price history: every new or changed price.
SELECT observed_at, price, currency FROM price_observations
WHERE listing_id = :listing_id
ORDER BY observed_at
