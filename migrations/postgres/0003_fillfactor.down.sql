ALTER TABLE brand_daily_metrics RESET (fillfactor);
ALTER TABLE competitor_daily_metrics RESET (fillfactor);
ALTER TABLE trends RESET (fillfactor);
