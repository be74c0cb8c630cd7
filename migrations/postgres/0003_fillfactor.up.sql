-- Room on each page for updated rows: the daily aggregates and trends are rewritten in place
-- epoch after epoch, and with free space on the page PostgreSQL updates them without new index
-- entries (HOT updates). Applies to pages written from now on.
ALTER TABLE brand_daily_metrics SET (fillfactor = 80);
ALTER TABLE competitor_daily_metrics SET (fillfactor = 80);
ALTER TABLE trends SET (fillfactor = 80);
