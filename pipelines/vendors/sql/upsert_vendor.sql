-- One vendor file's row. An unchanged file (same config hash and active flag) writes nothing and
-- returns no row; otherwise the row says whether it was inserted (xmax = 0) or updated.
INSERT INTO vendors (name, display_name, base_url, country, currency, is_active, config, config_hash)
VALUES (:name, :display_name, :base_url, :country, :currency, :is_active,
        CAST(:config AS jsonb), :config_hash)
ON CONFLICT (name) DO UPDATE SET
    display_name = EXCLUDED.display_name, base_url = EXCLUDED.base_url,
    country = EXCLUDED.country, currency = EXCLUDED.currency, is_active = EXCLUDED.is_active,
    config = EXCLUDED.config, config_hash = EXCLUDED.config_hash
WHERE (vendors.config_hash, vendors.is_active) IS DISTINCT FROM (EXCLUDED.config_hash, EXCLUDED.is_active)
RETURNING (xmax = 0) AS inserted;
