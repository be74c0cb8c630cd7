//! The graph's output: one `Row` type over every table, each with its table and primary key.

use serde::{Deserialize, Serialize};

use crate::metrics::{CollectorResultRow, DailyAgg, DailyKey, MetricFact, ScoreRow, SentimentRow};
use crate::trends::ledger::{ArchivedTrendRow, TrendAliasRow};
use crate::trends::{TrendArticleRow, TrendRow};

/// Every output table of SPEC 3, by its SQL / Parquet name.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
pub enum Table {
    MetricFacts,
    CollectorResults,
    BrandMetrics,
    CompetitorMetrics,
    BrandSentiment,
    CompetitorSentiment,
    BrandDailyMetrics,
    CompetitorDailyMetrics,
    Trends,
    TrendArticles,
    TrendAliases,
    ArchivedTrends,
}

impl Table {
    /// Every table, in declaration order: `ALL[t as usize] == t`.
    pub const ALL: [Table; 12] = [
        Table::MetricFacts,
        Table::CollectorResults,
        Table::BrandMetrics,
        Table::CompetitorMetrics,
        Table::BrandSentiment,
        Table::CompetitorSentiment,
        Table::BrandDailyMetrics,
        Table::CompetitorDailyMetrics,
        Table::Trends,
        Table::TrendArticles,
        Table::TrendAliases,
        Table::ArchivedTrends,
    ];

    /// Tables whose rows record history (epoch boundaries matter), kept by the trend ledger
    /// beside the graph (aliases of merged trends, archived trends): not a function of the input.
    pub fn is_history(self) -> bool {
        matches!(self, Table::TrendAliases | Table::ArchivedTrends)
    }

    pub fn name(self) -> &'static str {
        match self {
            Table::MetricFacts => "metric_facts",
            Table::CollectorResults => "collector_results",
            Table::BrandMetrics => "brand_metrics",
            Table::CompetitorMetrics => "competitor_metrics",
            Table::BrandSentiment => "brand_sentiment",
            Table::CompetitorSentiment => "competitor_sentiment",
            Table::BrandDailyMetrics => "brand_daily_metrics",
            Table::CompetitorDailyMetrics => "competitor_daily_metrics",
            Table::Trends => "trends",
            Table::TrendArticles => "trend_articles",
            Table::TrendAliases => "trend_aliases",
            Table::ArchivedTrends => "archived_trends",
        }
    }
}

/// One row of one output table.
#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
pub enum Row {
    /// Boxed, as the daily aggregate: the two largest rows would make every row their size.
    MetricFact(Box<MetricFact>),
    CollectorResult(CollectorResultRow),
    BrandMetric(ScoreRow),
    CompetitorMetric(ScoreRow),
    BrandSentiment(SentimentRow),
    CompetitorSentiment(SentimentRow),
    /// `brand_daily_metrics` when the key has no competitor, else `competitor_daily_metrics`.
    Daily(DailyKey, Box<DailyAgg>),
    Trend(TrendRow),
    TrendArticle(TrendArticleRow),
    TrendAlias(TrendAliasRow),
    ArchivedTrend(ArchivedTrendRow),
}

/// A row's primary key within its table, as text parts (for upserts and deletes).
pub type RowKey = Vec<String>;

impl Row {
    pub fn table(&self) -> Table {
        match self {
            Row::MetricFact(_) => Table::MetricFacts,
            Row::CollectorResult(_) => Table::CollectorResults,
            Row::BrandMetric(_) => Table::BrandMetrics,
            Row::CompetitorMetric(_) => Table::CompetitorMetrics,
            Row::BrandSentiment(_) => Table::BrandSentiment,
            Row::CompetitorSentiment(_) => Table::CompetitorSentiment,
            Row::Daily(k, _) if k.competitor_id.is_none() => Table::BrandDailyMetrics,
            Row::Daily(..) => Table::CompetitorDailyMetrics,
            Row::Trend(_) => Table::Trends,
            Row::TrendArticle(_) => Table::TrendArticles,
            Row::TrendAlias(_) => Table::TrendAliases,
            Row::ArchivedTrend(_) => Table::ArchivedTrends,
        }
    }

    /// A hash of the row's primary key (equal keys hash equal) without building the key:
    /// lets a large epoch test membership in a small set of keys before comparing keys.
    pub fn key_hash(&self) -> u64 {
        use std::hash::{BuildHasher, Hash, Hasher};
        let mut h = crate::keyed::StateHasher::default().build_hasher();
        match self {
            Row::MetricFact(r) => r.id.hash(&mut h),
            Row::CollectorResult(r) => r.id.hash(&mut h),
            Row::BrandMetric(r) | Row::CompetitorMetric(r) => {
                (&r.result_id, &r.competitor_id).hash(&mut h)
            }
            Row::BrandSentiment(r) | Row::CompetitorSentiment(r) => {
                (&r.result_id, &r.competitor_id).hash(&mut h)
            }
            Row::Daily(k, _) => {
                k.customer_id.hash(&mut h);
                k.brand_id.hash(&mut h);
                k.competitor_id.hash(&mut h);
                k.collector_type.hash(&mut h);
                k.day.hash(&mut h);
            }
            Row::Trend(t) => t.trend_id.hash(&mut h),
            Row::TrendArticle(a) => (&a.source, &a.external_id).hash(&mut h),
            Row::TrendAlias(a) => a.alias_id.hash(&mut h),
            Row::ArchivedTrend(a) => (&a.trend.trend_id, a.archived_at).hash(&mut h),
        }
        h.finish()
    }

    /// The primary key of the row within its table.
    pub fn key(&self) -> RowKey {
        let with_competitor = |id: &str, c: &Option<crate::event::Text>| {
            let mut k = vec![id.to_string()];
            k.extend(c.as_deref().map(str::to_string));
            k
        };
        match self {
            Row::MetricFact(r) => vec![r.id.to_string()],
            Row::CollectorResult(r) => vec![r.id.to_string()],
            Row::BrandMetric(r) | Row::CompetitorMetric(r) => {
                with_competitor(&r.result_id, &r.competitor_id)
            }
            Row::BrandSentiment(r) | Row::CompetitorSentiment(r) => {
                with_competitor(&r.result_id, &r.competitor_id)
            }
            Row::Daily(k, _) => {
                let mut key = vec![k.customer_id.to_string(), k.brand_id.to_string()];
                key.extend(k.competitor_id.as_deref().map(str::to_string));
                key.push(k.collector_type.to_string());
                key.push(k.day.to_string());
                key
            }
            Row::Trend(t) => vec![t.trend_id.clone()],
            Row::TrendArticle(a) => vec![a.source.clone(), a.external_id.clone()],
            Row::TrendAlias(a) => vec![a.alias_id.clone()],
            Row::ArchivedTrend(a) => vec![a.trend.trend_id.clone(), a.archived_at.to_string()],
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn all_tables_are_listed_in_declaration_order() {
        for (i, t) in Table::ALL.into_iter().enumerate() {
            assert_eq!(t as usize, i, "{t:?}");
        }
    }

    /// Rows and events are moved several times each on their way to a snapshot: the largest
    /// payloads stay behind pointers, so a row is the size of a score row and an event a few
    /// words (they were 200 and 312 bytes).
    #[test]
    fn rows_and_events_stay_small() {
        assert!(
            std::mem::size_of::<Row>() <= 144,
            "{}",
            std::mem::size_of::<Row>()
        );
        let event = std::mem::size_of::<crate::event::Event>();
        assert!(event <= 80, "{event}");
    }
}
