-- One first start at a time creates the first admin (two servers starting together must not make two).
SELECT pg_advisory_xact_lock(hashtext('market_pulse.first_admin'))
