-- Dashboard indexes, the legacy `extracted_positions` view, and a read-only role for dashboards.

CREATE INDEX metric_facts_customer_brand_day ON metric_facts (customer_id, brand_id, day);
CREATE INDEX brand_daily_metrics_customer_day ON brand_daily_metrics (customer_id, day);
CREATE INDEX competitor_daily_metrics_customer_brand_day
    ON competitor_daily_metrics (customer_id, brand_id, day);
CREATE INDEX trends_rising ON trends (rising_score DESC);
CREATE INDEX trends_last_published ON trends (last_published_at DESC);
CREATE INDEX trend_articles_trend ON trend_articles (trend_id);
CREATE INDEX trend_aliases_trend ON trend_aliases (trend_id);
CREATE INDEX archived_trends_archived_at ON archived_trends (archived_at);
CREATE INDEX dead_letters_epoch ON dead_letters (epoch);

-- The old wide row shape: one row for the brand and one per competitor of every answer.
CREATE VIEW extracted_positions AS
SELECT f.id AS result_id, f.customer_id, f.brand_id, f.query_id, f.collector_type, f.topic,
       f.day, f.created_at,
       false AS is_competitor, CAST(NULL AS text) AS competitor_id, r.brand_name AS name,
       m.visibility_index, m.share_of_answers, m.mentions, m.positions, m.best_position,
       s.label AS sentiment_label, s.score AS sentiment_score
FROM metric_facts f
JOIN brand_metrics m ON m.result_id = f.id
LEFT JOIN collector_results r ON r.id = f.id
LEFT JOIN brand_sentiment s ON s.result_id = f.id
UNION ALL
SELECT f.id, f.customer_id, f.brand_id, f.query_id, f.collector_type, f.topic,
       f.day, f.created_at,
       true, c.competitor_id, c.competitor_name,
       c.visibility_index, c.share_of_answers, c.mentions, c.positions, c.best_position,
       cs.label, cs.score
FROM metric_facts f
JOIN competitor_metrics c ON c.result_id = f.id
LEFT JOIN competitor_sentiment cs
    ON cs.result_id = c.result_id AND cs.competitor_id = c.competitor_id;

-- Dashboards connect as (a login role granted) trendflow_reader: SELECT only. Roles are global to
-- the server, so it is created once and only granted here.
DO $$
BEGIN
    IF NOT EXISTS (SELECT 1 FROM pg_roles WHERE rolname = 'trendflow_reader') THEN
        CREATE ROLE trendflow_reader NOLOGIN;
    END IF;
END
$$;
DO $$
BEGIN
    EXECUTE format('GRANT USAGE ON SCHEMA %I TO trendflow_reader', current_schema());
    EXECUTE format('GRANT SELECT ON ALL TABLES IN SCHEMA %I TO trendflow_reader', current_schema());
END
$$;
