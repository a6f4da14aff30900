-- Take each matched vendor's listings lock (the one a listings partition holds while it derives
-- state), in vendor order, so assigning product ids never deadlocks with a running listings step.
SELECT pg_advisory_xact_lock(CAST(:namespace AS integer), vendor_id)
FROM (SELECT DISTINCT l.vendor_id FROM listings l JOIN staged_matches m ON m.listing_id = l.id
      ORDER BY l.vendor_id) AS v;
