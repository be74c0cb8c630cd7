//! The brand/competitor metrics graph (SPEC 3.3): current collector results → star schema rows and daily aggregates.

use differential_dataflow::lattice::Lattice;
use differential_dataflow::VecCollection;
use serde::{Deserialize, Serialize};
use timely::order::TotalOrder;
use timely::progress::Timestamp;

use crate::event::{
    day_of, CollectorResult, Day, Micros, Record, Scores, SentimentLabel, Text, TimestampMs,
};
use crate::keyed::keyed_fold;
use crate::output::Row;
use crate::upsert::upsert;

/// `metric_facts`: one row per current collector result.
#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
pub struct MetricFact {
    pub id: Text,
    pub customer_id: Text,
    pub brand_id: Text,
    pub query_id: Text,
    pub collector_type: Text,
    pub topic: Text,
    pub day: Day,
    pub created_at: TimestampMs,
    pub version: u64,
}

/// `collector_results`: the answer itself, stored once (`raw_answer` lives only here).
#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
pub struct CollectorResultRow {
    pub id: Text,
    pub brand_name: Option<Text>,
    pub created_at: TimestampMs,
    pub version: u64,
    pub raw_answer: Option<Text>,
}

/// `brand_metrics` (key `result_id`) and `competitor_metrics` (key `(result_id, competitor_id)`).
#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
pub struct ScoreRow {
    pub result_id: Text,
    /// `None` for the brand itself.
    pub competitor_id: Option<Text>,
    pub competitor_name: Option<Text>,
    pub visibility_index: Micros,
    pub share_of_answers: Micros,
    pub mentions: u32,
    pub positions: std::sync::Arc<[u32]>,
    pub best_position: Option<u32>,
}

/// `brand_sentiment` (key `result_id`) and `competitor_sentiment` (key `(result_id, competitor_id)`).
#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
pub struct SentimentRow {
    pub result_id: Text,
    pub competitor_id: Option<Text>,
    pub label: SentimentLabel,
    pub score: Micros,
}

/// Key of a daily aggregate: `competitor_id` is `None` for `brand_daily_metrics`.
#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
pub struct DailyKey {
    pub customer_id: Text,
    pub brand_id: Text,
    pub competitor_id: Option<Text>,
    pub collector_type: Text,
    pub day: Day,
}

/// A daily aggregate, kept as exact sums and counts; averages are derived by the methods.
#[derive(Clone, Debug, Default, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
pub struct DailyAgg {
    /// Number of answers (collector results) in the group.
    pub answers: i64,
    pub mentions: i64,
    pub visibility_sum: Micros,
    pub share_of_answers_sum: Micros,
    /// Sum and count over every listed position of every answer.
    pub position_sum: i64,
    pub position_count: i64,
    pub best_position: Option<u32>,
    pub sentiment_sum: Micros,
    pub sentiment_count: i64,
    pub positive: i64,
    pub neutral: i64,
    pub negative: i64,
}

fn ratio(sum: i64, count: i64, scale: f64) -> Option<f64> {
    (count > 0).then(|| sum as f64 / count as f64 / scale)
}

impl DailyAgg {
    /// Adds one answer's scores `mult` times. A negative `mult` subtracts the sums exactly but
    /// cannot undo `best_position`: [`DailyState`] keeps that from counts.
    pub fn add(&mut self, s: &Scores, mult: i64) {
        if let Some(b) = s.best_position() {
            self.best_position = Some(self.best_position.map_or(b, |x| x.min(b)));
        }
        self.answers += mult;
        self.mentions += mult * i64::from(s.mentions);
        self.visibility_sum += mult * s.visibility_index;
        self.share_of_answers_sum += mult * s.share_of_answers;
        self.position_sum += mult * s.positions.iter().map(|p| i64::from(*p)).sum::<i64>();
        self.position_count += mult * s.positions.len() as i64;
        if let Some(sent) = &s.sentiment {
            self.sentiment_sum += mult * sent.score;
            self.sentiment_count += mult;
            match sent.label {
                SentimentLabel::Positive => self.positive += mult,
                SentimentLabel::Neutral => self.neutral += mult,
                SentimentLabel::Negative => self.negative += mult,
            }
        }
    }

    pub fn avg_visibility_index(&self) -> Option<f64> {
        ratio(self.visibility_sum, self.answers, 1e6)
    }
    pub fn avg_share_of_answers(&self) -> Option<f64> {
        ratio(self.share_of_answers_sum, self.answers, 1e6)
    }
    pub fn avg_position(&self) -> Option<f64> {
        ratio(self.position_sum, self.position_count, 1.0)
    }
    pub fn avg_sentiment_score(&self) -> Option<f64> {
        ratio(self.sentiment_sum, self.sentiment_count, 1e6)
    }
}

/// A daily group's running aggregate: exact sums, and how many answers have each best position
/// (so that the smallest stays known when answers leave the group).
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct DailyState {
    agg: DailyAgg,
    best: std::collections::BTreeMap<u32, i64>,
}

impl DailyState {
    /// Adds (`mult` > 0) or removes (`mult` < 0) one answer's scores.
    pub fn add(&mut self, s: &Scores, mult: i64) {
        self.agg.add(s, mult);
        if let Some(b) = s.best_position() {
            let n = self.best.entry(b).or_insert(0);
            *n += mult;
            if *n == 0 {
                self.best.remove(&b);
            }
        }
        self.agg.best_position = self.best.keys().next().copied();
    }
}

/// The star-schema rows of one current collector result (everything but the aggregates). The
/// rows share the result's strings (reference counts, no copies).
pub fn star_rows(id: &Text, r: &CollectorResult) -> Vec<Row> {
    let mut rows = Vec::with_capacity(4 + 2 * r.competitors.len());
    rows.push(Row::MetricFact(MetricFact {
        id: id.clone(),
        customer_id: r.customer_id.clone(),
        brand_id: r.brand_id.clone(),
        query_id: r.query_id.clone(),
        collector_type: r.collector_type.clone(),
        topic: r.topic.clone(),
        day: day_of(r.created_at),
        created_at: r.created_at,
        version: r.version,
    }));
    rows.push(Row::CollectorResult(CollectorResultRow {
        id: id.clone(),
        brand_name: r.brand_name.clone(),
        created_at: r.created_at,
        version: r.version,
        raw_answer: r.raw_answer.clone(),
    }));
    let mut push_scores = |competitor: Option<(&Text, &Option<Text>)>, s: &Scores| {
        let competitor_id = competitor.map(|(c, _)| c.clone());
        let score_row = ScoreRow {
            result_id: id.clone(),
            competitor_id: competitor_id.clone(),
            competitor_name: competitor.and_then(|(_, n)| n.clone()),
            visibility_index: s.visibility_index,
            share_of_answers: s.share_of_answers,
            mentions: s.mentions,
            positions: s.positions.clone(),
            best_position: s.best_position(),
        };
        rows.push(match competitor {
            None => Row::BrandMetric(score_row),
            Some(_) => Row::CompetitorMetric(score_row),
        });
        if let Some(sent) = &s.sentiment {
            let sent_row = SentimentRow {
                result_id: id.clone(),
                competitor_id,
                label: sent.label,
                score: sent.score,
            };
            rows.push(match competitor {
                None => Row::BrandSentiment(sent_row),
                Some(_) => Row::CompetitorSentiment(sent_row),
            });
        }
    };
    push_scores(None, &r.brand);
    for c in &r.competitors {
        push_scores(Some((&c.competitor_id, &c.name)), &c.scores);
    }
    rows
}

/// The daily-aggregate groups one current collector result contributes to, with its scores there.
pub fn daily_contributions(r: &CollectorResult) -> impl Iterator<Item = (DailyKey, &Scores)> {
    let key = |competitor_id: Option<Text>| DailyKey {
        customer_id: r.customer_id.clone(),
        brand_id: r.brand_id.clone(),
        competitor_id,
        collector_type: r.collector_type.clone(),
        day: day_of(r.created_at),
    };
    std::iter::once((key(None), &r.brand)).chain(
        r.competitors
            .iter()
            .map(move |c| (key(Some(c.competitor_id.clone())), &c.scores)),
    )
}

/// Builds the metrics graph: collector-result records keyed by `id` → every metrics table, as
/// [`Row`]s. Records are upserted by the replace rule, so corrections and deletes retract
/// exactly the rows and contributions of the version they replace.
pub fn metrics<'scope, T>(
    records: VecCollection<'scope, T, (Text, Record<CollectorResult>)>,
) -> VecCollection<'scope, T, Row>
where
    T: Timestamp + Lattice + TotalOrder,
{
    // Shared payloads: the replace rule's state, its output and the rows built from it clone
    // a pointer, not the answer.
    let current = upsert(records.map(|(id, r)| (id, r.map(std::sync::Arc::new))));
    let star = current.clone().flat_map(|(id, r)| star_rows(&id, &r));
    let daily = keyed_fold(
        current.flat_map(|(_id, r)| {
            daily_contributions(&r)
                .map(|(k, s)| (k, s.clone()))
                .collect::<Vec<_>>()
        }),
        "DailyAggregates",
        |key: &DailyKey, state: &mut DailyState, updates, output| {
            let before = state.agg.clone();
            for ((_, scores), mult) in updates {
                state.add(scores, *mult as i64);
            }
            if state.agg != before {
                if before.answers > 0 {
                    output.push((Row::Daily(key.clone(), before), -1));
                }
                if state.agg.answers > 0 {
                    output.push((Row::Daily(key.clone(), state.agg.clone()), 1));
                }
            }
        },
    );
    star.concat(daily)
}
