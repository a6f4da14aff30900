-- Every partition of the history tables with its month (lower/upper bound as UTC days; NULL for the
-- DEFAULT partition), the planner's row estimate and its size on disk, oldest first.
WITH parts AS (
    SELECT p.relname AS parent, c.relname AS name, c.oid,
           regexp_match(pg_get_expr(c.relpartbound, c.oid), 'FROM \(''([^'']+)''\) TO \(''([^'']+)''\)') AS bounds
    FROM pg_inherits i
    JOIN pg_class c ON c.oid = i.inhrelid
    JOIN pg_class p ON p.oid = i.inhparent
    WHERE p.relname IN ('listing_sightings', 'price_observations', 'search_results', 'search_events', 'raw_captures')
      AND p.relnamespace = CAST(current_schema() AS regnamespace)
)
SELECT parent, name,
       CASE WHEN parent = 'search_events' THEN CAST(CAST(bounds[1] AS timestamptz) AT TIME ZONE 'UTC' AS date)
            ELSE CAST(bounds[1] AS date) END AS lower_day,
       CASE WHEN parent = 'search_events' THEN CAST(CAST(bounds[2] AS timestamptz) AT TIME ZONE 'UTC' AS date)
            ELSE CAST(bounds[2] AS date) END AS upper_day,
       CAST(greatest(c.reltuples, 0) AS bigint) AS rows_estimate,
       pg_total_relation_size(parts.oid) AS bytes
FROM parts JOIN pg_class c ON c.oid = parts.oid
ORDER BY upper_day NULLS LAST, parent;
