COPY staged_positions (search_id, external_id, position, page) FROM STDIN;
