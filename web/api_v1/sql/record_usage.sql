-- Add a batch of counted use to each key's day.
INSERT INTO api_key_usage (api_key_id, usage_date, requests, searches, pages, compute_units)
VALUES (:api_key_id, :usage_date, :requests, :searches, :pages, :compute_units)
ON CONFLICT (api_key_id, usage_date) DO UPDATE
SET requests = api_key_usage.requests + EXCLUDED.requests,
    searches = api_key_usage.searches + EXCLUDED.searches,
    pages = api_key_usage.pages + EXCLUDED.pages,
    compute_units = api_key_usage.compute_units + EXCLUDED.compute_units
