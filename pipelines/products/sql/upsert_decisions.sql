-- People's decisions pin listings to a product; a later decision on a listing replaces the earlier one.
INSERT INTO product_decisions (listing_id, product_key, action, note)
SELECT unnest(CAST(:ids AS bigint[])), :key, :action, :note
ON CONFLICT (listing_id) DO UPDATE
    SET product_key = EXCLUDED.product_key, action = EXCLUDED.action, note = EXCLUDED.note, decided_at = now()
