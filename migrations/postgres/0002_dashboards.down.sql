-- The role stays (it is global to the server and may serve other schemas); its grants here go.
DO $$
BEGIN
    IF EXISTS (SELECT 1 FROM pg_roles WHERE rolname = 'trendflow_reader') THEN
        EXECUTE format('REVOKE SELECT ON ALL TABLES IN SCHEMA %I FROM trendflow_reader', current_schema());
        EXECUTE format('REVOKE USAGE ON SCHEMA %I FROM trendflow_reader', current_schema());
    END IF;
END
$$;
DROP VIEW extracted_positions;
DROP INDEX dead_letters_epoch;
DROP INDEX archived_trends_archived_at;
DROP INDEX trend_aliases_trend;
DROP INDEX trend_articles_trend;
DROP INDEX trends_last_published;
DROP INDEX trends_rising;
DROP INDEX competitor_daily_metrics_customer_brand_day;
DROP INDEX brand_daily_metrics_customer_day;
DROP INDEX metric_facts_customer_brand_day;
