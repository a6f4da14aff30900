SELECT pg_advisory_unlock(CAST(:namespace AS integer), CAST(:vendor_id AS integer));
