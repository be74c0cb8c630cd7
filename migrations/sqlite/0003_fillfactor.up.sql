-- PostgreSQL's migration 3 sets a fill factor for tables updated in place; SQLite has no such
-- setting. Kept so that both backends number their migrations alike.
SELECT 1;
