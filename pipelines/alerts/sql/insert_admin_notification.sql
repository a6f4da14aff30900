-- A notice to one admin target, tied to no user or saved search. Its dedupe_key names what it is
-- about (e.g. one vendor's failed audit on one day) and the target: a notice queued before is
-- skipped, so each is sent once however often the cause repeats.
-- The target is sealed (encrypted) like every alert's, with its masked label beside it.
INSERT INTO notifications (dedupe_key, target, target_label, title, body, data)
VALUES (:dedupe_key, :target, :target_label, :title, :body, CAST(:data AS jsonb))
ON CONFLICT (dedupe_key) DO NOTHING;
