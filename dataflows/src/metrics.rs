//! The brand/competitor metrics graph (SPEC 3.3): current collector results → star schema rows and daily aggregates.

use differential_dataflow::lattice::Lattice;
use differential_dataflow::VecCollection;
use serde::{Deserialize, Serialize};
use timely::order::TotalOrder;
use timely::progress::Timestamp;

use crate::blobs::{BlobStore, Serialized};
use crate::event::{
    day_of, CollectorResult, Day, Micros, Positions, Record, Scores, SentimentLabel, Text,
    TimestampMs,
};
use crate::keyed::{keyed_fold, Stash, StateHasher};
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
    pub positions: Positions,
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
    /// One answer's sums and counts (`best_position` is kept by [`DailyState`] from counts
    /// per position, so that it stays exact when answers leave).
    fn of_answer(s: &Scores) -> DailyAgg {
        let mut a = DailyAgg {
            answers: 1,
            mentions: i64::from(s.mentions),
            visibility_sum: s.visibility_index,
            share_of_answers_sum: s.share_of_answers,
            position_sum: s.positions.iter().map(|p| i64::from(*p)).sum(),
            position_count: s.positions.len() as i64,
            ..DailyAgg::default()
        };
        if let Some(sent) = &s.sentiment {
            a.sentiment_sum = sent.score;
            a.sentiment_count = 1;
            match sent.label {
                SentimentLabel::Positive => a.positive = 1,
                SentimentLabel::Neutral => a.neutral = 1,
                SentimentLabel::Negative => a.negative = 1,
            }
        }
        a
    }

    /// Adds another aggregate's sums and counts `mult` times (a negative `mult` subtracts them
    /// exactly; not `best_position`).
    fn add_agg_sums(&mut self, o: &DailyAgg, mult: i64) {
        self.answers += mult * o.answers;
        self.mentions += mult * o.mentions;
        self.visibility_sum += mult * o.visibility_sum;
        self.share_of_answers_sum += mult * o.share_of_answers_sum;
        self.position_sum += mult * o.position_sum;
        self.position_count += mult * o.position_count;
        self.sentiment_sum += mult * o.sentiment_sum;
        self.sentiment_count += mult * o.sentiment_count;
        self.positive += mult * o.positive;
        self.neutral += mult * o.neutral;
        self.negative += mult * o.negative;
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
    /// Adds (`mult` > 0) or removes (`mult` < 0) a combined change of the group.
    pub fn apply(&mut self, d: &DailyDelta, mult: i64) {
        self.agg.add_agg_sums(&d.sums, mult);
        for (b, n) in &d.best {
            let count = self.best.entry(*b).or_insert(0);
            *count += mult * n;
            if *count == 0 {
                self.best.remove(b);
            }
        }
        self.agg.best_position = self.best.keys().next().copied();
    }
}

/// The combined change of one daily group within one epoch on one worker: the answers that
/// entered it minus those that left, as sums and counts per best position (what
/// [`DailyState`] keeps), so that a group is exchanged and folded once per epoch and worker
/// rather than once per answer.
#[derive(Clone, Debug, Default, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
pub struct DailyDelta {
    /// Sums and counts; `best_position` unused.
    sums: DailyAgg,
    /// Answers per best position.
    best: Vec<(u32, i64)>,
}

impl DailyDelta {
    /// Adds (`mult` > 0) or removes (`mult` < 0) one answer's scores.
    pub fn add(&mut self, s: &Scores, mult: i64) {
        self.sums.add_agg_sums(&DailyAgg::of_answer(s), mult);
        if let Some(b) = s.best_position() {
            match self.best.iter_mut().find(|(p, _)| *p == b) {
                Some(e) => e.1 += mult,
                None => self.best.push((b, mult)),
            }
        }
    }

    /// Whether the change leaves the group as it was (answers in and out cancelled).
    pub fn is_empty(&self) -> bool {
        self.sums == DailyAgg::default() && self.best.iter().all(|(_, n)| *n == 0)
    }
}

/// The star-schema rows of one current collector result (everything but the aggregates). The
/// rows copy the result's short strings (inline [`Text`]) and share its long ones: no
/// allocation per field.
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

/// Each completed time's daily contributions of the current results, combined per group on
/// this worker (no exchange): one [`DailyDelta`] per group touched, empty changes dropped.
fn daily_deltas<'scope, T>(
    current: VecCollection<'scope, T, (Text, std::sync::Arc<CollectorResult>)>,
) -> VecCollection<'scope, T, (DailyKey, DailyDelta)>
where
    T: Timestamp + TotalOrder,
{
    use differential_dataflow::AsCollection;
    use std::collections::HashMap;
    use timely::container::CapacityContainerBuilder;
    use timely::dataflow::channels::pact::Pipeline;
    use timely::dataflow::operators::Operator;
    current
        .inner
        .unary_frontier::<CapacityContainerBuilder<Vec<_>>, _, _, _>(
            Pipeline,
            "DailyDeltas",
            |_, _| {
                let mut stash = Stash::<T, (Text, std::sync::Arc<CollectorResult>)>::default();
                move |(input, frontier), output| {
                    input.for_each(|cap, data| stash.absorb(&cap, data));
                    stash.complete_batches(frontier, |cap, batches| {
                        let mut groups: HashMap<DailyKey, DailyDelta, StateHasher> =
                            HashMap::default();
                        for ((_, r), _, diff) in batches.iter().flatten() {
                            for (key, s) in daily_contributions(r) {
                                groups.entry(key).or_default().add(s, *diff as i64);
                            }
                        }
                        let t = cap.time().clone();
                        output.session(&cap).give_iterator(
                            groups
                                .into_iter()
                                .filter(|(_, d)| !d.is_empty())
                                .map(|kd| (kd, t.clone(), 1)),
                        );
                    });
                }
            },
        )
        .as_collection()
}

/// Builds the metrics graph: collector-result records keyed by `id` → every metrics table, as
/// [`Row`]s. Records are upserted by the replace rule, so corrections and deletes retract
/// exactly the rows and contributions of the version they replace. The rule keeps the answers
/// it holds serialized in `answers` (this worker's store), not in its state.
pub fn metrics<'scope, T>(
    records: VecCollection<'scope, T, (Text, Record<CollectorResult>)>,
    answers: Box<dyn BlobStore>,
) -> VecCollection<'scope, T, Row>
where
    T: Timestamp + Lattice + TotalOrder,
{
    // Shared payloads: the replace rule's output and the rows built from it clone a pointer,
    // not the answer.
    let current = upsert(
        records.map(|(id, r)| (id, r.map(std::sync::Arc::new))),
        Serialized::new(answers),
    );
    let star = current.clone().flat_map(|(id, r)| star_rows(&id, &r));
    let daily = keyed_fold(
        daily_deltas(current),
        "DailyAggregates",
        |key: &DailyKey, state: &mut DailyState, updates, output| {
            let before = state.agg.clone();
            for ((_, delta), mult) in updates {
                state.apply(delta, *mult as i64);
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

#[cfg(test)]
mod tests {
    use super::*;

    fn scores(positions: &[u32], visibility: Micros) -> Scores {
        Scores {
            visibility_index: visibility,
            share_of_answers: 0,
            positions: positions.into(),
            mentions: positions.len() as u32,
            sentiment: None,
        }
    }

    /// A group's deltas, applied in any grouping, give the aggregate of the answers it holds;
    /// the best position comes back when the answer holding it leaves.
    #[test]
    fn deltas_keep_sums_and_best_position_exact() {
        let (a, b, c) = (scores(&[1, 4], 10), scores(&[3], 20), scores(&[], 30));
        let mut state = DailyState::default();
        let mut d = DailyDelta::default();
        d.add(&a, 1);
        d.add(&b, 1);
        d.add(&c, 1);
        state.apply(&d, 1);
        assert_eq!(state.agg.answers, 3);
        assert_eq!(state.agg.best_position, Some(1));
        assert_eq!(state.agg.visibility_sum, 60);
        assert_eq!((state.agg.position_sum, state.agg.position_count), (8, 3));
        // In one epoch: `a` leaves, and an answer enters and leaves again.
        let mut d = DailyDelta::default();
        d.add(&a, -1);
        d.add(&scores(&[2], 5), 1);
        d.add(&scores(&[2], 5), -1);
        state.apply(&d, 1);
        assert_eq!(state.agg.answers, 2);
        assert_eq!(state.agg.best_position, Some(3));
        assert_eq!(state.agg.visibility_sum, 50);
        // A change that cancels out is empty; removing everything gives the default state.
        let mut none = DailyDelta::default();
        none.add(&b, 1);
        none.add(&b, -1);
        assert!(none.is_empty());
        let mut rest = DailyDelta::default();
        rest.add(&b, 1);
        rest.add(&c, 1);
        state.apply(&rest, -1);
        assert_eq!(state, DailyState::default());
    }
}
