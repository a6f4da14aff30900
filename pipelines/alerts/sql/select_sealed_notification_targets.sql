-- Every outbox row's sealed target, for re-keying.
SELECT id, target FROM notifications ORDER BY id FOR UPDATE;
