-- Cascades to the search's matches and outbox rows (pending messages are dropped).
DELETE FROM saved_searches WHERE id = :id;
