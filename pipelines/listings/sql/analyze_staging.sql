-- Temporary tables get no statistics from autovacuum; without them the planner guesses badly.
ANALYZE staged_items, staged_positions;
