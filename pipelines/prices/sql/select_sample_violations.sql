-- Snapshots of the window with an empty sample, an impossible trim count or an unknown confidence.
SELECT count(*) AS snapshots,
       count(*) FILTER (WHERE sample_size <= 0) AS empty,
       count(*) FILTER (WHERE CAST(analyses ->> 'kept' AS integer) <= 0
                        OR CAST(analyses ->> 'kept' AS integer) > sample_size) AS bad_trim,
       count(*) FILTER (WHERE volume_confidence NOT IN ('low', 'medium', 'high')) AS bad_confidence
FROM price_snapshots
WHERE snapshot_date >= CAST(:start AS date) AND snapshot_date < CAST(:end AS date);
