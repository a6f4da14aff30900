-- Rename or (de)activate one of the caller's saved searches; no row when it is not theirs.
UPDATE saved_searches
SET name = coalesce(CAST(:name AS text), name), is_active = coalesce(CAST(:active AS boolean), is_active)
WHERE id = :search_id AND user_id = :user_id
RETURNING id
