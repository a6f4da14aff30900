-- One row per product, day and currency from the day's offers: every listing sighted that day
-- with a price (price_kind 'priced'), not marked sold, and matched to a product.
--
-- sample_size, min, max and avg use every offer. Outliers are then trimmed with Tukey fences
-- (keep q1 - 1.5 IQR <= price <= q3 + 1.5 IQR, quartiles of all offers) and the trimmed offers
-- give: fmv_low / fmv_high = 25th / 75th percentile (the fair-market-value band), market_value =
-- median, quick_sale = 20th percentile (priced to sell fast), patient_sale = 80th percentile
-- (what a patient seller can ask). Percentiles interpolate linearly between the two nearest
-- offers, exactly as percentile_cont and pandas/numpy do (position p * (n - 1)), on integer
-- thousandths (the warehouse's scale). Every statistic is rounded half up to the currency's minor
-- unit (:currency_decimals, ISO code -> decimals, 2 for a code it does not list: 12.35 USD, 12.345 KWD,
-- 12345 IDR), or to the offers' own decimals where they have more (a fuel price of 3.999 USD),
-- so min <= every percentile <= max holds after rounding too. volume_confidence: low below 5 offers, medium 5-14,
-- high 15 or more. analyses: the fences, offers kept and trimmed, and by_vendor / by_condition
-- breakdowns (n, min, max, avg of all offers).
--
-- Plan, whatever the window (one day or a year): one sort of the window's offers (each group's
-- prices as a sorted array: quartiles and trimmed percentiles are array lookups, the kept offers
-- the contiguous slice between the fences, found by binary search with width_bucket) and one
-- hash aggregation (totals and breakdowns, via grouping sets). No per-group subqueries.
SET LOCAL work_mem = '128MB';
-- Index probes cost what they cost on a cached or SSD warehouse: with the default (4, spinning disk)
-- a day's rollup hashed the whole listings table (every listing ever seen) to join a day's offers;
-- at 1.1 a short window looks its offers' listings up by key (flat in the length of history), and a
-- long window (a backfill) still hashes them.
SET LOCAL random_page_cost = 1.1;
INSERT INTO price_snapshots (product_id, snapshot_date, currency, fmv_low, fmv_high, market_value, quick_sale,
                             patient_sale, sample_size, min_price, max_price, avg_price, volume_confidence,
                             analyses)
WITH units AS (
    SELECT key AS currency, CAST(value AS integer) AS digits FROM jsonb_each_text(CAST(:currency_decimals AS jsonb))
),
offers AS MATERIALIZED (
    SELECT l.product_id, s.partition_date AS day, s.currency, s.vendor_id,
           coalesce(nullif(l.condition, ''), 'unknown') AS condition,
           s.price, CAST(s.price * 1000 AS double precision) AS mills, scale(trim_scale(s.price)) AS decimals
    FROM listing_sightings s
    JOIN listings l ON l.id = s.listing_id
    WHERE s.partition_date >= CAST(:start AS date) AND s.partition_date < CAST(:end AS date)
      AND s.price_kind = 'priced' AND s.price IS NOT NULL AND NOT s.is_sold
      AND l.product_id IS NOT NULL
),
-- each group's offers in thousandths, sorted, and the positions of its quartiles (0-based: p * (n - 1))
sorted AS (
    SELECT product_id, day, currency, array_agg(mills ORDER BY mills) AS c,
           0.25 * CAST(count(*) - 1 AS double precision) AS p1,
           0.75 * CAST(count(*) - 1 AS double precision) AS p3
    FROM offers
    GROUP BY product_id, day, currency
),
-- quartiles interpolated between neighbours (arrays are 1-based), then Tukey's fences
quartiles AS (
    SELECT product_id, day, currency, c,
           c[1 + floor(p1)::int] + (p1 - floor(p1)) * (c[1 + ceil(p1)::int] - c[1 + floor(p1)::int]) AS q1,
           c[1 + floor(p3)::int] + (p3 - floor(p3)) * (c[1 + ceil(p3)::int] - c[1 + floor(p3)::int]) AS q3
    FROM sorted
),
-- Tukey's fences, and how many offers fall outside them: width_bucket(x, sorted) counts the
-- elements <= x (binary search); thousandths are whole numbers, so "< fence_low" is "<= ceil(fence_low) - 1".
-- The kept offers are then c[a .. a + m] (a = below + 1, m = kept - 1).
fenced AS MATERIALIZED (
    SELECT product_id, day, currency, c, fence_low, fence_high, below, cardinality(c) - below - above AS kept,
           below + 1 AS a, CAST(cardinality(c) - below - above - 1 AS double precision) AS m
    FROM (SELECT product_id, day, currency, c, fence_low, fence_high,
                 width_bucket(ceil(fence_low) - 1, c) AS below, cardinality(c) - width_bucket(fence_high, c) AS above
          FROM (SELECT product_id, day, currency, c, q1 - 1.5 * (q3 - q1) AS fence_low,
                       q3 + 1.5 * (q3 - q1) AS fence_high
                FROM quartiles) q) b
),
-- percentile q of the kept offers: position a + q * m, interpolated between its neighbours
-- (MATERIALIZED so each is computed once, not re-expanded into every expression using it)
trimmed AS MATERIALIZED (
    SELECT product_id, day, currency, fence_low, fence_high, kept,
           c[a + floor(x20)::int] + (x20 - floor(x20)) * (c[a + ceil(x20)::int] - c[a + floor(x20)::int]) AS p20,
           c[a + floor(x25)::int] + (x25 - floor(x25)) * (c[a + ceil(x25)::int] - c[a + floor(x25)::int]) AS p25,
           c[a + floor(x50)::int] + (x50 - floor(x50)) * (c[a + ceil(x50)::int] - c[a + floor(x50)::int]) AS p50,
           c[a + floor(x75)::int] + (x75 - floor(x75)) * (c[a + ceil(x75)::int] - c[a + floor(x75)::int]) AS p75,
           c[a + floor(x80)::int] + (x80 - floor(x80)) * (c[a + ceil(x80)::int] - c[a + floor(x80)::int]) AS p80
    FROM (SELECT *, 0.2 * m AS x20, 0.25 * m AS x25, 0.5 * m AS x50, 0.75 * m AS x75, 0.8 * m AS x80
          FROM fenced) f
),
-- totals (level 3), per vendor (level 1) and per condition (level 2), in one hash aggregation
parts AS (
    SELECT o.product_id, o.day, o.currency, o.vendor_id, o.condition, GROUPING(o.vendor_id, o.condition) AS level,
           count(*) AS n, min(o.price) AS min_price, max(o.price) AS max_price,
           greatest(min(coalesce(u.digits, 2)), max(o.decimals)) AS digits,
           round(avg(o.price), greatest(min(coalesce(u.digits, 2)), max(o.decimals))) AS avg_price
    FROM offers o
    LEFT JOIN units u ON u.currency = o.currency
    GROUP BY GROUPING SETS ((o.product_id, o.day, o.currency), (o.product_id, o.day, o.currency, o.vendor_id),
                            (o.product_id, o.day, o.currency, o.condition))
),
summary AS (
    SELECT p.product_id, p.day, p.currency,
           CAST(sum(p.n) FILTER (WHERE p.level = 3) AS integer) AS n,
           min(p.min_price) FILTER (WHERE p.level = 3) AS min_price,
           max(p.max_price) FILTER (WHERE p.level = 3) AS max_price,
           min(p.avg_price) FILTER (WHERE p.level = 3) AS avg_price,
           min(p.digits) FILTER (WHERE p.level = 3) AS digits,
           jsonb_object_agg(v.name, jsonb_build_object('n', p.n, 'min', p.min_price, 'max', p.max_price,
                                                       'avg', p.avg_price)) FILTER (WHERE p.level = 1) AS by_vendor,
           jsonb_object_agg(p.condition, jsonb_build_object('n', p.n, 'min', p.min_price, 'max', p.max_price,
                                                            'avg', p.avg_price)) FILTER (WHERE p.level = 2) AS by_condition
    FROM parts p
    LEFT JOIN vendors v ON v.id = p.vendor_id
    GROUP BY p.product_id, p.day, p.currency
)
SELECT t.product_id, t.day, t.currency,
       round(CAST(t.p25 AS numeric) / 1000, s.digits), round(CAST(t.p75 AS numeric) / 1000, s.digits),
       round(CAST(t.p50 AS numeric) / 1000, s.digits), round(CAST(t.p20 AS numeric) / 1000, s.digits),
       round(CAST(t.p80 AS numeric) / 1000, s.digits),
       s.n, s.min_price, s.max_price, s.avg_price,
       CASE WHEN s.n >= 15 THEN 'high' WHEN s.n >= 5 THEN 'medium' ELSE 'low' END,
       jsonb_build_object(
           'trim', 'tukey_1.5_iqr', 'kept', t.kept, 'trimmed', s.n - t.kept,
           'fence_low', round(CAST(t.fence_low AS numeric) / 1000, s.digits),
           'fence_high', round(CAST(t.fence_high AS numeric) / 1000, s.digits),
           'by_vendor', s.by_vendor, 'by_condition', s.by_condition)
FROM trimmed t
JOIN summary s USING (product_id, day, currency);
