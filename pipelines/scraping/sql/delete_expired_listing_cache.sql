DELETE FROM listing_cache WHERE expires_at <= :now;
