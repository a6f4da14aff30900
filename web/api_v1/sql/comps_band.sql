-- Comps: the listings whose title contains :like, on sale now or sold in the trailing :days days,
-- priced, and their fair-market-value band per currency, computed as the price_snapshots rollup
-- does: outliers trimmed with Tukey fences (q1 - 1.5 IQR .. q3 + 1.5 IQR), then the 25th / 75th
-- percentiles of the kept prices (the band), the median (market value), the 20th (quick sale) and
-- the 80th (patient sale), rounded to the currency's minor unit (:currency_decimals).
WITH units AS (
    SELECT key AS currency, CAST(value AS integer) AS digits FROM jsonb_each_text(CAST(:currency_decimals AS jsonb))
),
comps AS MATERIALIZED (
    SELECT l.currency, l.price, l.is_sold
    FROM listings l
    WHERE l.title ILIKE :like AND l.price IS NOT NULL AND l.price_kind = 'priced'
      AND ((NOT l.is_sold AND NOT l.is_removed)
           OR (l.is_sold AND l.sold_at > now() - make_interval(days => CAST(:days AS integer))))
      AND (CAST(:currency AS text) IS NULL OR l.currency = :currency)
),
quartiles AS (
    SELECT currency, count(*) AS n, count(*) FILTER (WHERE is_sold) AS sold,
           percentile_cont(0.25) WITHIN GROUP (ORDER BY price) AS q1,
           percentile_cont(0.75) WITHIN GROUP (ORDER BY price) AS q3
    FROM comps GROUP BY currency
)
SELECT c.currency, q.n AS sample_size, q.sold, q.n - q.sold AS active, count(*) AS kept,
       min(c.price) AS min_price, max(c.price) AS max_price,
       round(CAST(percentile_cont(0.25) WITHIN GROUP (ORDER BY c.price) AS numeric), coalesce(min(u.digits), 2)) AS fmv_low,
       round(CAST(percentile_cont(0.75) WITHIN GROUP (ORDER BY c.price) AS numeric), coalesce(min(u.digits), 2)) AS fmv_high,
       round(CAST(percentile_cont(0.5) WITHIN GROUP (ORDER BY c.price) AS numeric), coalesce(min(u.digits), 2)) AS market_value,
       round(CAST(percentile_cont(0.2) WITHIN GROUP (ORDER BY c.price) AS numeric), coalesce(min(u.digits), 2)) AS quick_sale,
       round(CAST(percentile_cont(0.8) WITHIN GROUP (ORDER BY c.price) AS numeric), coalesce(min(u.digits), 2)) AS patient_sale
FROM comps c
JOIN quartiles q ON q.currency = c.currency
LEFT JOIN units u ON u.currency = c.currency
WHERE c.price >= q.q1 - 1.5 * (q.q3 - q.q1) AND c.price <= q.q3 + 1.5 * (q.q3 - q.q1)
GROUP BY c.currency, q.n, q.sold
ORDER BY q.n DESC, c.currency
