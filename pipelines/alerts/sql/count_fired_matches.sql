SELECT count(*) FROM alert_fired;
