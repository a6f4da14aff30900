-- Vendors whose file is gone are deactivated, never deleted (their history stays).
UPDATE vendors SET is_active = false
WHERE is_active AND NOT (name = ANY(:names))
RETURNING name;
