//! The output tables as typed columns: names, types, keys, meaning, and each row's values; shared by every sink.

use dataflows::event::{Micros, SentimentLabel, MICROS};
use dataflows::output::{Row, RowKey, Table};

/// The logical type of a column; each sink maps it to its own (`migrations/`, `schemas/parquet.md`).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ColType {
    Text,
    Int64,
    Float64,
    /// A calendar day (UTC), stored as days since 1970-01-01.
    Date,
    /// An instant, stored as milliseconds since the epoch (UTC).
    Timestamp,
    TextList,
    Int64List,
}

/// One column of an output table.
#[derive(Clone, Copy, Debug)]
pub struct Column {
    pub name: &'static str,
    pub ty: ColType,
    pub nullable: bool,
    /// Part of the primary key (key columns come first, in key order).
    pub key: bool,
    pub doc: &'static str,
}

/// One value of one column.
#[derive(Clone, Debug, PartialEq, PartialOrd)]
pub enum Value {
    Null,
    Text(String),
    Int64(i64),
    Float64(f64),
    Date(i32),
    Timestamp(i64),
    TextList(Vec<String>),
    Int64List(Vec<i64>),
}

const fn key(name: &'static str, ty: ColType, doc: &'static str) -> Column {
    Column {
        name,
        ty,
        nullable: false,
        key: true,
        doc,
    }
}

const fn col(name: &'static str, ty: ColType, doc: &'static str) -> Column {
    Column {
        name,
        ty,
        nullable: false,
        key: false,
        doc,
    }
}

const fn opt(name: &'static str, ty: ColType, doc: &'static str) -> Column {
    Column {
        name,
        ty,
        nullable: true,
        key: false,
        doc,
    }
}

use ColType::*;

const METRIC_FACTS: &[Column] = &[
    key("id", Text, "collector result id"),
    col("customer_id", Text, "customer"),
    col("brand_id", Text, "brand"),
    col("query_id", Text, "query asked"),
    col("collector_type", Text, "collector (LLM) that answered"),
    col("topic", Text, "topic of the query"),
    col("day", Date, "UTC day of created_at"),
    col("created_at", Timestamp, "when the answer was collected"),
    col("version", Int64, "version of the collector result"),
];

const COLLECTOR_RESULTS: &[Column] = &[
    key("id", Text, "collector result id"),
    opt("brand_name", Text, "brand name as given in the event"),
    col("created_at", Timestamp, "when the answer was collected"),
    col("version", Int64, "version of the collector result"),
    opt(
        "raw_answer",
        Text,
        "the LLM answer text, stored only in this table",
    ),
];

const BRAND_METRICS: &[Column] = &[
    key("result_id", Text, "collector result id (metric_facts.id)"),
    col("visibility_index", Float64, "visibility index, 0..1"),
    col("share_of_answers", Float64, "share of answers, 0..1"),
    col("mentions", Int64, "number of mentions"),
    col("positions", Int64List, "positions where the brand appears"),
    opt("best_position", Int64, "smallest position, if any"),
];

const COMPETITOR_METRICS: &[Column] = &[
    key("result_id", Text, "collector result id (metric_facts.id)"),
    key("competitor_id", Text, "competitor"),
    opt("competitor_name", Text, "competitor name as given"),
    col("visibility_index", Float64, "visibility index, 0..1"),
    col("share_of_answers", Float64, "share of answers, 0..1"),
    col("mentions", Int64, "number of mentions"),
    col(
        "positions",
        Int64List,
        "positions where the competitor appears",
    ),
    opt("best_position", Int64, "smallest position, if any"),
];

const BRAND_SENTIMENT: &[Column] = &[
    key("result_id", Text, "collector result id (metric_facts.id)"),
    col("label", Text, "positive, neutral or negative"),
    col("score", Float64, "sentiment score, -1..1"),
];

const COMPETITOR_SENTIMENT: &[Column] = &[
    key("result_id", Text, "collector result id (metric_facts.id)"),
    key("competitor_id", Text, "competitor"),
    col("label", Text, "positive, neutral or negative"),
    col("score", Float64, "sentiment score, -1..1"),
];

/// The aggregate columns shared by both daily tables, after their keys.
macro_rules! daily_columns {
    ($($keys:expr),* $(,)?) => {
        &[
            $($keys,)*
            col("answers", Int64, "number of answers (collector results)"),
            col("mentions", Int64, "total mentions"),
            opt("avg_visibility_index", Float64, "visibility_index_sum / answers"),
            opt("avg_share_of_answers", Float64, "share_of_answers_sum / answers"),
            opt("avg_position", Float64, "position_sum / position_count"),
            opt("best_position", Int64, "smallest position over the answers"),
            opt("avg_sentiment_score", Float64, "sentiment_sum / sentiment_count"),
            col("positive_count", Int64, "answers with a positive sentiment"),
            col("neutral_count", Int64, "answers with a neutral sentiment"),
            col("negative_count", Int64, "answers with a negative sentiment"),
            col("visibility_index_sum", Float64, "exact sum, for roll-ups"),
            col("share_of_answers_sum", Float64, "exact sum, for roll-ups"),
            col("position_sum", Int64, "sum of every listed position"),
            col("position_count", Int64, "number of listed positions"),
            col("sentiment_sum", Float64, "exact sum, for roll-ups"),
            col("sentiment_count", Int64, "answers with a sentiment"),
        ]
    };
}

const BRAND_DAILY: &[Column] = daily_columns!(
    key("customer_id", Text, "customer"),
    key("brand_id", Text, "brand"),
    key("collector_type", Text, "collector (LLM)"),
    key("day", Date, "UTC day"),
);

const COMPETITOR_DAILY: &[Column] = daily_columns!(
    key("customer_id", Text, "customer"),
    key("brand_id", Text, "brand"),
    key("competitor_id", Text, "competitor"),
    key("collector_type", Text, "collector (LLM)"),
    key("day", Date, "UTC day"),
);

/// The trend state columns shared by `trends` and `archived_trends`, after their keys.
macro_rules! trend_columns {
    ($($keys:expr),* $(,)?) => {
        &[
            $($keys,)*
            col("headline", Text, "a real headline of the trend, chosen deterministically"),
            col("keywords", TextList, "most frequent words of its headlines (at most 5)"),
            col("article_count", Int64, "articles in the trend"),
            col("story_count", Int64, "distinct stories (near-duplicate groups)"),
            col("source_count", Int64, "distinct sources"),
            col("first_published_at", Timestamp, "earliest article"),
            col("last_published_at", Timestamp, "latest article"),
            col("articles_1h", Int64, "articles in the hour before the watermark"),
            col("articles_24h", Int64, "articles in the 24 hours before the watermark"),
            col("rising_score", Float64, "(a1h + 1) / ((a24h - a1h) / 23 + 1)"),
        ]
    };
}

const TRENDS: &[Column] = trend_columns!(key("trend_id", Text, "stable trend id"));

const ARCHIVED_TRENDS: &[Column] = trend_columns!(
    key("trend_id", Text, "stable trend id"),
    key(
        "archived_at",
        Timestamp,
        "watermark when the trend left the window"
    ),
);

const TREND_ARTICLES: &[Column] = &[
    key("source", Text, "article source"),
    key("external_id", Text, "article id at the source"),
    col("trend_id", Text, "trend the article belongs to"),
    col("story_id", Text, "near-duplicate group of the article"),
    col("published_at", Timestamp, "when the article was published"),
    col("title", Text, "headline"),
];

const TREND_ALIASES: &[Column] = &[
    key("alias_id", Text, "an id absorbed by a merge"),
    col("trend_id", Text, "the trend it now points to"),
];

/// The columns of `table`, key columns first in key order.
pub fn columns(table: Table) -> &'static [Column] {
    match table {
        Table::MetricFacts => METRIC_FACTS,
        Table::CollectorResults => COLLECTOR_RESULTS,
        Table::BrandMetrics => BRAND_METRICS,
        Table::CompetitorMetrics => COMPETITOR_METRICS,
        Table::BrandSentiment => BRAND_SENTIMENT,
        Table::CompetitorSentiment => COMPETITOR_SENTIMENT,
        Table::BrandDailyMetrics => BRAND_DAILY,
        Table::CompetitorDailyMetrics => COMPETITOR_DAILY,
        Table::Trends => TRENDS,
        Table::TrendArticles => TREND_ARTICLES,
        Table::TrendAliases => TREND_ALIASES,
        Table::ArchivedTrends => ARCHIVED_TRENDS,
    }
}

/// The column holding the table's day, for Hive-style `day=` partitions.
pub fn day_column(table: Table) -> Option<&'static str> {
    columns(table)
        .iter()
        .find(|c| c.ty == ColType::Date)
        .map(|c| c.name)
}

fn text(s: &str) -> Value {
    Value::Text(s.to_string())
}

fn opt_text<S: std::ops::Deref<Target = str>>(s: &Option<S>) -> Value {
    s.as_deref().map_or(Value::Null, text)
}

fn micros(m: Micros) -> Value {
    Value::Float64(m as f64 / MICROS as f64)
}

fn int(x: impl Into<i64>) -> Value {
    Value::Int64(x.into())
}

fn opt_int(x: Option<u32>) -> Value {
    x.map_or(Value::Null, |x| Value::Int64(x.into()))
}

fn opt_float(x: Option<f64>) -> Value {
    x.map_or(Value::Null, Value::Float64)
}

fn count(x: u64) -> Value {
    Value::Int64(i64::try_from(x).unwrap_or(i64::MAX))
}

fn label(l: SentimentLabel) -> Value {
    text(match l {
        SentimentLabel::Positive => "positive",
        SentimentLabel::Neutral => "neutral",
        SentimentLabel::Negative => "negative",
    })
}

fn trend_values(t: &dataflows::trends::TrendRow, out: &mut Vec<Value>) {
    out.extend([
        text(&t.headline),
        Value::TextList(t.keywords.clone()),
        count(t.article_count),
        count(t.story_count),
        count(t.source_count),
        Value::Timestamp(t.first_published_at),
        Value::Timestamp(t.last_published_at),
        count(t.articles_1h),
        count(t.articles_24h),
        micros(t.rising_score),
    ]);
}

/// The values of `row`, in the order of `columns(row.table())`.
pub fn values(row: &Row) -> Vec<Value> {
    match row {
        Row::MetricFact(f) => vec![
            text(&f.id),
            text(&f.customer_id),
            text(&f.brand_id),
            text(&f.query_id),
            text(&f.collector_type),
            text(&f.topic),
            Value::Date(f.day),
            Value::Timestamp(f.created_at),
            Value::Int64(i64::try_from(f.version).unwrap_or(i64::MAX)),
        ],
        Row::CollectorResult(r) => vec![
            text(&r.id),
            opt_text(&r.brand_name),
            Value::Timestamp(r.created_at),
            Value::Int64(i64::try_from(r.version).unwrap_or(i64::MAX)),
            opt_text(&r.raw_answer),
        ],
        Row::BrandMetric(s) | Row::CompetitorMetric(s) => {
            let mut v = vec![text(&s.result_id)];
            if let Some(c) = &s.competitor_id {
                v.push(text(c));
                v.push(opt_text(&s.competitor_name));
            }
            v.extend([
                micros(s.visibility_index),
                micros(s.share_of_answers),
                int(s.mentions),
                Value::Int64List(s.positions.iter().map(|p| i64::from(*p)).collect()),
                opt_int(s.best_position),
            ]);
            v
        }
        Row::BrandSentiment(s) | Row::CompetitorSentiment(s) => {
            let mut v = vec![text(&s.result_id)];
            if let Some(c) = &s.competitor_id {
                v.push(text(c));
            }
            v.extend([label(s.label), micros(s.score)]);
            v
        }
        Row::Daily(k, a) => {
            let mut v = vec![text(&k.customer_id), text(&k.brand_id)];
            if let Some(c) = &k.competitor_id {
                v.push(text(c));
            }
            v.extend([
                text(&k.collector_type),
                Value::Date(k.day),
                int(a.answers),
                int(a.mentions),
                opt_float(a.avg_visibility_index()),
                opt_float(a.avg_share_of_answers()),
                opt_float(a.avg_position()),
                opt_int(a.best_position),
                opt_float(a.avg_sentiment_score()),
                int(a.positive),
                int(a.neutral),
                int(a.negative),
                micros(a.visibility_sum),
                micros(a.share_of_answers_sum),
                int(a.position_sum),
                int(a.position_count),
                micros(a.sentiment_sum),
                int(a.sentiment_count),
            ]);
            v
        }
        Row::Trend(t) => {
            let mut v = vec![text(&t.trend_id)];
            trend_values(t, &mut v);
            v
        }
        Row::ArchivedTrend(a) => {
            let mut v = vec![text(&a.trend.trend_id), Value::Timestamp(a.archived_at)];
            trend_values(&a.trend, &mut v);
            v
        }
        Row::TrendArticle(a) => vec![
            text(&a.source),
            text(&a.external_id),
            text(&a.trend_id),
            text(&a.story_id),
            Value::Timestamp(a.published_at),
            text(&a.title),
        ],
        Row::TrendAlias(a) => vec![text(&a.alias_id), text(&a.trend_id)],
    }
}

/// The typed values of a row key of `table` (as produced by `Row::key`), for deletes.
pub fn key_values(table: Table, key: &RowKey) -> Result<Vec<Value>, String> {
    let cols = columns(table).iter().filter(|c| c.key);
    if cols.clone().count() != key.len() {
        return Err(format!(
            "{}: key {key:?} does not match its key columns",
            table.name()
        ));
    }
    cols.zip(key)
        .map(|(c, part)| match c.ty {
            Text => Ok(Value::Text(part.clone())),
            Date => part
                .parse()
                .map(Value::Date)
                .map_err(|e| format!("{}.{}: {part:?}: {e}", table.name(), c.name)),
            Timestamp => part
                .parse()
                .map(Value::Timestamp)
                .map_err(|e| format!("{}.{}: {part:?}: {e}", table.name(), c.name)),
            Int64 => part
                .parse()
                .map(Value::Int64)
                .map_err(|e| format!("{}.{}: {part:?}: {e}", table.name(), c.name)),
            other => Err(format!(
                "{}.{}: {other:?} cannot be a key column",
                table.name(),
                c.name
            )),
        })
        .collect()
}

/// Sorts value rows into one order (for comparing tables read from different places).
pub fn sort_rows(rows: &mut [Vec<Value>]) {
    rows.sort_by(|a, b| a.partial_cmp(b).unwrap_or(std::cmp::Ordering::Equal));
}

/// Formats a day number as `YYYY-MM-DD` (proleptic Gregorian, UTC).
pub fn format_day(day: i32) -> String {
    // Civil-from-days (H. Hinnant), exact for every i32 day in range.
    let z = i64::from(day) + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z.rem_euclid(146_097);
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = doy - (153 * mp + 2) / 5 + 1;
    let m = if mp < 10 { mp + 3 } else { mp - 9 };
    let y = yoe + era * 400 + i64::from(m <= 2);
    format!("{y:04}-{m:02}-{d:02}")
}

#[cfg(test)]
mod tests {
    use super::*;
    use dataflows::metrics::{DailyKey, ScoreRow};

    #[test]
    fn every_row_has_one_value_per_column_and_its_key_matches() {
        let comp = ScoreRow {
            result_id: "r1".into(),
            competitor_id: Some("c1".into()),
            competitor_name: None,
            visibility_index: 500_000,
            share_of_answers: 0,
            mentions: 2,
            positions: vec![3, 1].into(),
            best_position: Some(1),
        };
        let brand = ScoreRow {
            competitor_id: None,
            ..comp.clone()
        };
        let daily = |c: Option<&str>| {
            Row::Daily(
                DailyKey {
                    customer_id: "cu".into(),
                    brand_id: "b".into(),
                    competitor_id: c.map(Into::into),
                    collector_type: "gpt".into(),
                    day: 20_454,
                },
                Box::default(),
            )
        };
        for row in [
            Row::CompetitorMetric(comp),
            Row::BrandMetric(brand),
            daily(None),
            daily(Some("c1")),
        ] {
            let table = row.table();
            let vals = values(&row);
            let cols = columns(table);
            assert_eq!(vals.len(), cols.len(), "{}", table.name());
            let keys = key_values(table, &row.key()).expect("key parses");
            let n = cols.iter().filter(|c| c.key).count();
            assert_eq!(keys, vals[..n].to_vec(), "{}", table.name());
            assert!(cols[..n].iter().all(|c| c.key), "{}", table.name());
        }
    }

    #[test]
    fn days_format_as_calendar_dates() {
        assert_eq!(format_day(0), "1970-01-01");
        assert_eq!(format_day(20_454), "2026-01-01");
        assert_eq!(format_day(-1), "1969-12-31");
        assert_eq!(format_day(11_016), "2000-02-29");
    }
}
