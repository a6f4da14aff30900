-- Take the (namespace, vendor id) session-level advisory lock without waiting: true when this
-- connection now holds it (it is released by release_fetch_lock or when the connection ends).
SELECT pg_try_advisory_lock(CAST(:namespace AS integer), CAST(:vendor_id AS integer));
