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
use crate::keyed::{keyed_fold, StateHasher};
use crate::output::Row;
use crate::upsert::upsert;
use std::hash::{BuildHasher, Hash, Hasher};
use std::sync::Arc;

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

/// The star-schema rows of one current collector result (everything but the aggregates), each
/// handed to `emit`. The rows copy the result's short strings (inline [`Text`]) and share its
/// long ones: no allocation per field.
pub fn star_rows(id: &Text, r: &CollectorResult, mut emit: impl FnMut(Row)) {
    emit(Row::MetricFact(Box::new(MetricFact {
        id: id.clone(),
        customer_id: r.customer_id.clone(),
        brand_id: r.brand_id.clone(),
        query_id: r.query_id.clone(),
        collector_type: r.collector_type.clone(),
        topic: r.topic.clone(),
        day: day_of(r.created_at),
        created_at: r.created_at,
        version: r.version,
    })));
    emit(Row::CollectorResult(CollectorResultRow {
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
        emit(match competitor {
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
            emit(match competitor {
                None => Row::BrandSentiment(sent_row),
                Some(_) => Row::CompetitorSentiment(sent_row),
            });
        }
    };
    push_scores(None, &r.brand);
    for c in &r.competitors {
        push_scores(Some((&c.competitor_id, &c.name)), &c.scores);
    }
}

/// One epoch's daily contributions on one worker, combined per group. A result's groups share
/// all but the competitor, so that part of the key is hashed once per result, and a group is
/// found by comparing fields in place: its key is built (four strings cloned) only when the
/// group is new, not once per contribution.
#[derive(Default)]
struct DailyGroups {
    table: hashbrown::HashTable<(DailyKey, DailyDelta)>,
    hasher: StateHasher,
}

/// The hasher state after a group's shared fields, in the order [`daily_key_hash`] feeds them.
fn daily_shared_hash(
    hasher: &StateHasher,
    customer_id: &str,
    brand_id: &str,
    collector_type: &str,
    day: Day,
) -> impl Hasher + Clone {
    let mut h = hasher.build_hasher();
    customer_id.hash(&mut h);
    brand_id.hash(&mut h);
    collector_type.hash(&mut h);
    day.hash(&mut h);
    h
}

fn daily_key_hash(hasher: &StateHasher, k: &DailyKey) -> u64 {
    let mut h = daily_shared_hash(
        hasher,
        &k.customer_id,
        &k.brand_id,
        &k.collector_type,
        k.day,
    );
    k.competitor_id.as_deref().hash(&mut h);
    h.finish()
}

impl DailyGroups {
    /// Adds (`mult` > 0) or removes (`mult` < 0) one result's contributions.
    fn add(&mut self, r: &CollectorResult, mult: i64) {
        let day = day_of(r.created_at);
        let hasher = &self.hasher;
        let shared = daily_shared_hash(hasher, &r.customer_id, &r.brand_id, &r.collector_type, day);
        let all = std::iter::once((None, &r.brand)).chain(
            r.competitors
                .iter()
                .map(|c| (Some(&c.competitor_id), &c.scores)),
        );
        for (competitor, scores) in all {
            let mut h = shared.clone();
            competitor.map(|c| c.as_str()).hash(&mut h);
            let same = |(k, _): &(DailyKey, DailyDelta)| {
                k.day == day
                    && k.competitor_id.as_ref() == competitor
                    && k.brand_id == r.brand_id
                    && k.customer_id == r.customer_id
                    && k.collector_type == r.collector_type
            };
            let hash = h.finish();
            let delta = match self.table.find_mut(hash, same) {
                Some((_, d)) => d,
                None => {
                    let key = DailyKey {
                        customer_id: r.customer_id.clone(),
                        brand_id: r.brand_id.clone(),
                        competitor_id: competitor.cloned(),
                        collector_type: r.collector_type.clone(),
                        day,
                    };
                    let entry =
                        self.table
                            .insert_unique(hash, (key, DailyDelta::default()), |(k, _)| {
                                daily_key_hash(hasher, k)
                            });
                    &mut entry.into_mut().1
                }
            };
            delta.add(scores, mult);
        }
    }
}

/// The current results → their star-schema rows, sent as each result arrives, and each
/// completed time's daily contributions, combined per group on this worker (no exchange): one
/// [`DailyDelta`] per group touched, empty changes dropped. One pass over each result while it
/// is in cache, and no copy of the stream for a second reader.
#[allow(clippy::type_complexity)]
fn star_and_daily<'scope, T>(
    current: VecCollection<'scope, T, (Text, Arc<CollectorResult>)>,
) -> (
    VecCollection<'scope, T, Row>,
    VecCollection<'scope, T, (DailyKey, DailyDelta)>,
)
where
    T: Timestamp + TotalOrder,
{
    use differential_dataflow::AsCollection;
    use std::collections::BTreeMap;
    use timely::container::CapacityContainerBuilder;
    use timely::dataflow::channels::pact::Pipeline;
    use timely::dataflow::operators::generic::builder_rc::OperatorBuilder;
    use timely::dataflow::operators::generic::OutputBuilder;
    use timely::dataflow::operators::Capability;

    let mut builder = OperatorBuilder::new("StarAndDaily".to_owned(), current.inner.scope());
    let mut input = builder.new_input(current.inner, Pipeline);
    let (rows_out, rows) = builder.new_output();
    let (daily_out, daily) = builder.new_output();
    let mut rows_out =
        OutputBuilder::<_, CapacityContainerBuilder<Vec<(Row, T, isize)>>>::from(rows_out);
    let mut daily_out = OutputBuilder::<
        _,
        CapacityContainerBuilder<Vec<((DailyKey, DailyDelta), T, isize)>>,
    >::from(daily_out);
    builder.build(move |_initial| {
        // Each open time's groups, with a capability to send them once the time completes.
        let mut open: BTreeMap<T, (Capability<T>, DailyGroups)> = BTreeMap::new();
        move |frontiers| {
            let mut rows_session = rows_out.activate();
            input.for_each(|cap, data| {
                let mut session = rows_session.session(&cap);
                for ((id, r), t, diff) in data.drain(..) {
                    let (_, groups) = open
                        .entry(t.clone())
                        .or_insert_with(|| (cap.delayed(&t, 1), DailyGroups::default()));
                    groups.add(&r, diff as i64);
                    star_rows(&id, &r, |row| session.give((row, t.clone(), diff)));
                }
            });
            let mut daily_session = daily_out.activate();
            while let Some(entry) = open.first_entry() {
                if frontiers[0].less_equal(entry.key()) {
                    break;
                }
                let (t, (cap, groups)) = entry.remove_entry();
                daily_session.session(&cap).give_iterator(
                    groups
                        .table
                        .into_iter()
                        .filter(|(_, d)| !d.is_empty())
                        .map(|kd| (kd, t.clone(), 1)),
                );
            }
        }
    });
    (rows.as_collection(), daily.as_collection())
}

/// Builds the metrics graph: collector-result records keyed by `id` → every metrics table, as
/// [`Row`]s. Records are upserted by the replace rule, so corrections and deletes retract
/// exactly the rows and contributions of the version they replace. The rule keeps the answers
/// it holds serialized in `answers` (this worker's store), not in its state.
pub fn metrics<'scope, T>(
    records: VecCollection<'scope, T, (Text, Record<std::sync::Arc<CollectorResult>>)>,
    answers: Box<dyn BlobStore>,
) -> VecCollection<'scope, T, Row>
where
    T: Timestamp + Lattice + TotalOrder,
{
    // Shared payloads (from the decoder on): the replace rule's output and the rows built from
    // it clone a pointer, not the answer.
    let current = upsert(records, Serialized::new(answers));
    let (star, deltas) = star_and_daily(current);
    let daily = keyed_fold(
        deltas,
        "DailyAggregates",
        |key: &DailyKey, state: &mut DailyState, updates, output| {
            let before = state.agg.clone();
            for ((_, delta), mult) in updates {
                state.apply(delta, *mult as i64);
            }
            if state.agg != before {
                if before.answers > 0 {
                    output.push((Row::Daily(key.clone(), Box::new(before)), -1));
                }
                if state.agg.answers > 0 {
                    output.push((Row::Daily(key.clone(), Box::new(state.agg.clone())), 1));
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

    /// A result with `competitors`, for the grouping test.
    fn result(
        customer: &str,
        day: i64,
        competitors: &[&str],
        visibility: Micros,
    ) -> CollectorResult {
        CollectorResult {
            customer_id: customer.into(),
            brand_id: "b".into(),
            brand_name: None,
            query_id: "q".into(),
            collector_type: "gpt".into(),
            topic: "t".into(),
            created_at: day * 86_400_000 + 5,
            raw_answer: None,
            version: 0,
            brand: scores(&[1], visibility),
            competitors: competitors
                .iter()
                .map(|c| crate::event::CompetitorScores {
                    competitor_id: (*c).into(),
                    name: None,
                    scores: scores(&[2, 3], visibility + 1),
                })
                .collect(),
        }
    }

    /// Grouping by reference gives the groups and sums that a map keyed by the whole key gives:
    /// results sharing some fields but not others, a competitor whose id is a brand's, and a
    /// result added and removed again.
    #[test]
    fn daily_groups_match_a_map_by_whole_key() {
        let results = [
            (result("c1", 20_000, &["x", "y"], 10), 1),
            (result("c1", 20_000, &["y"], 20), 1),
            (result("c1", 20_001, &["x"], 30), 1),
            (result("c2", 20_000, &["x", "b"], 40), 1),
            (result("c1", 20_000, &["x", "y"], 10), -1),
            (result("c1", 20_000, &["z"], 50), 2),
        ];
        let mut groups = DailyGroups::default();
        let mut expected: std::collections::HashMap<DailyKey, DailyDelta> = Default::default();
        for (r, mult) in &results {
            groups.add(r, *mult);
            let key = |competitor_id: Option<Text>| DailyKey {
                customer_id: r.customer_id.clone(),
                brand_id: r.brand_id.clone(),
                competitor_id,
                collector_type: r.collector_type.clone(),
                day: day_of(r.created_at),
            };
            expected.entry(key(None)).or_default().add(&r.brand, *mult);
            for c in &r.competitors {
                expected
                    .entry(key(Some(c.competitor_id.clone())))
                    .or_default()
                    .add(&c.scores, *mult);
            }
        }
        let got: std::collections::HashMap<DailyKey, DailyDelta> =
            groups.table.into_iter().collect();
        assert_eq!(got.len(), 9, "{got:?}");
        assert_eq!(got, expected);
        assert!(
            got.values().filter(|d| d.is_empty()).count() == 1,
            "c1/20000/x cancels out"
        );
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
