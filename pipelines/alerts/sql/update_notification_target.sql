UPDATE notifications SET target = :target WHERE id = :id;
