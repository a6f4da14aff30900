-- Products the tracked queries found, per day and currency: how often they appeared in search
-- results (appearances, best position, which queries), and the offers behind them: min and
-- median of the day's price of each distinct listing (priced, not sold), rounded half up to the
-- currency's minor unit (:currency_decimals, ISO code -> decimals; 2 for a code it does not list) or to
-- the offers' own decimals where they have more, as in price_snapshots.
INSERT INTO tracked_product_prices (product_id, stats_date, currency, appearances, listings, vendors, best_position,
                                    queries, priced_listings, min_price, median_price)
WITH units AS (
    SELECT key AS currency, CAST(value AS integer) AS digits FROM jsonb_each_text(CAST(:currency_decimals AS jsonb))
),
hits AS (
    SELECT s.partition_date AS day, lower(btrim(s.query)) AS query, r.listing_id, r.position
    FROM searches s
    JOIN search_results r ON r.search_id = s.id AND r.partition_date = s.partition_date
    WHERE s.partition_date >= CAST(:start AS date) AND s.partition_date < CAST(:end AS date)
),
per_listing AS (
    SELECT h.day, h.listing_id, l.product_id, g.vendor_id, g.currency,
           count(*) AS appearances, min(h.position) AS best_position,
           array_agg(DISTINCT h.query) AS queries,
           CASE WHEN g.price_kind = 'priced' AND NOT g.is_sold THEN g.price END AS offer
    FROM hits h
    JOIN listings l ON l.id = h.listing_id
    JOIN listing_sightings g ON g.listing_id = h.listing_id AND g.partition_date = h.day
    WHERE l.product_id IS NOT NULL
    GROUP BY h.day, h.listing_id, l.product_id, g.vendor_id, g.currency, g.price_kind, g.is_sold, g.price
),
totals AS (
    SELECT product_id, day, currency, sum(appearances) AS appearances, count(*) AS listings,
           count(DISTINCT vendor_id) AS vendors, min(best_position) AS best_position, count(offer) AS priced,
           min(offer) AS min_offer, max(scale(trim_scale(offer))) AS decimals,
           percentile_cont(0.5) WITHIN GROUP (ORDER BY CAST(offer * 1000 AS double precision)) AS median_mills
    FROM per_listing
    GROUP BY product_id, day, currency
),
found_by AS (
    SELECT product_id, day, currency, jsonb_agg(DISTINCT query ORDER BY query) AS queries
    FROM per_listing, unnest(queries) AS query
    GROUP BY product_id, day, currency
)
SELECT t.product_id, t.day, t.currency, t.appearances, t.listings, t.vendors, t.best_position, f.queries,
       t.priced, t.min_offer, round(CAST(t.median_mills AS numeric) / 1000,
                                         greatest(coalesce(u.digits, 2), t.decimals))
FROM totals t
JOIN found_by f USING (product_id, day, currency)
LEFT JOIN units u ON u.currency = t.currency;
