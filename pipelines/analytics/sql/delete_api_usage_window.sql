DELETE FROM api_usage_daily
WHERE usage_date >= CAST(:start AS date) AND usage_date < CAST(:end AS date);
