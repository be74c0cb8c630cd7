//! Input event types (SPEC 2): articles, collector results, and the replace/delete envelope they travel in.

use std::sync::Arc;

use serde::{Deserialize, Serialize};

/// Position of an event in its source: the Kafka offset within its partition, or the line number
/// of a file. All events of one identity share a partition, so sequences order them.
pub type Seq = u64;

/// Milliseconds since the Unix epoch, UTC.
pub type TimestampMs = i64;

/// Days since 1970-01-01, UTC.
pub type Day = i32;

/// A score kept as an exact integer: millionths (0.42 is stored as 420_000). Sums of these are
/// exact under any order of additions and retractions; averages are derived at the edge.
pub type Micros = i64;

/// Text as rows hold it: inline up to 23 bytes (ids, names, labels: no allocation, no reference
/// count), shared by reference beyond (an answer's text is decoded once and every row built
/// from it holds the same allocation).
pub type Text = smol_str::SmolStr;

/// 1-based ranks in an answer: inline up to four (no allocation for the usual few).
pub type Positions = smallvec::SmallVec<[u32; 4]>;

/// Scale of [`Micros`].
pub const MICROS: i64 = 1_000_000;

/// Converts a decoded score into [`Micros`], rounding to the nearest millionth.
pub fn to_micros(x: f64) -> Micros {
    (x * MICROS as f64).round() as Micros
}

/// Converts [`Micros`] back into a float for output.
pub fn from_micros(x: Micros) -> f64 {
    x as f64 / MICROS as f64
}

/// Day of a timestamp.
pub fn day_of(ts: TimestampMs) -> Day {
    ts.div_euclid(86_400_000) as Day
}

/// Identity of an article (SPEC 2.1): `(source, external_id)`.
#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
pub struct ArticleKey {
    pub source: Text,
    pub external_id: Text,
}

impl ArticleKey {
    /// The Kafka key of the article: `<source>/<external_id>`.
    pub fn kafka_key(&self) -> String {
        format!("{}/{}", self.source, self.external_id)
    }
}

/// One news article.
#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
pub struct Article {
    pub title: String,
    pub published_at: TimestampMs,
    pub url: Option<String>,
    pub summary: Option<String>,
    pub language: Option<String>,
    pub topics: Vec<String>,
}

/// A sentiment judgement.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
pub struct Sentiment {
    pub label: SentimentLabel,
    /// In [-1, 1], as millionths.
    pub score: Micros,
}

/// The closed set of sentiment labels.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
pub enum SentimentLabel {
    Positive,
    Neutral,
    Negative,
}

impl SentimentLabel {
    pub fn as_str(self) -> &'static str {
        match self {
            SentimentLabel::Positive => "positive",
            SentimentLabel::Neutral => "neutral",
            SentimentLabel::Negative => "negative",
        }
    }

    pub fn parse(s: &str) -> Option<Self> {
        match s {
            "positive" => Some(SentimentLabel::Positive),
            "neutral" => Some(SentimentLabel::Neutral),
            "negative" => Some(SentimentLabel::Negative),
            _ => None,
        }
    }
}

/// The scores of one brand or competitor in one answer.
#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
pub struct Scores {
    /// In [0, 1], as millionths.
    pub visibility_index: Micros,
    /// In [0, 1], as millionths.
    pub share_of_answers: Micros,
    /// 1-based ranks at which the brand appears in the answer.
    pub positions: Positions,
    pub mentions: u32,
    pub sentiment: Option<Sentiment>,
}

impl Scores {
    pub fn best_position(&self) -> Option<u32> {
        self.positions.iter().copied().min()
    }
}

/// A competitor's scores in one answer.
#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
pub struct CompetitorScores {
    pub competitor_id: Text,
    pub name: Option<Text>,
    pub scores: Scores,
}

/// One scored LLM answer about a brand (SPEC 2.2). Its identity is `id`, kept beside it.
#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
pub struct CollectorResult {
    pub customer_id: Text,
    pub brand_id: Text,
    pub brand_name: Option<Text>,
    pub query_id: Text,
    pub collector_type: Text,
    pub topic: Text,
    pub created_at: TimestampMs,
    pub raw_answer: Option<Text>,
    pub version: u64,
    pub brand: Scores,
    pub competitors: Vec<CompetitorScores>,
}

/// What an event does to its identity.
#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
pub enum Change<P> {
    /// The payload replaces the identity's current one if its `(version, seq)` is greater.
    Upsert(P),
    /// `"deleted": true`: removes the identity if its `(version, seq)` is greater.
    Delete,
    /// A Kafka tombstone (null value): removes everything before it by sequence, whatever the versions.
    Tombstone,
}

/// One event for one identity, as it enters the graph.
#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
pub struct Record<P> {
    pub seq: Seq,
    /// The event's `version`; absent counts as 0.
    pub version: u64,
    pub change: Change<P>,
}

impl<P> Record<P> {
    /// The same record with its payload (if any) mapped by `f`.
    pub fn map<Q>(self, f: impl FnOnce(P) -> Q) -> Record<Q> {
        Record {
            seq: self.seq,
            version: self.version,
            change: match self.change {
                Change::Upsert(p) => Change::Upsert(f(p)),
                Change::Delete => Change::Delete,
                Change::Tombstone => Change::Tombstone,
            },
        }
    }
}

/// A decoded event of either kind, with its identity. The payloads sit behind a pointer, so an
/// event moves through the graph's first operators as a few words (inline they made every
/// event 312 bytes); a collector result is shared, as the replace rule and the rows built from
/// it hold it.
#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
pub enum Event {
    Article(ArticleKey, Record<Box<Article>>),
    CollectorResult(Text, Record<Arc<CollectorResult>>),
}

/// The two input kinds.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
pub enum EventKind {
    Article,
    CollectorResult,
}

impl EventKind {
    pub fn as_str(self) -> &'static str {
        match self {
            EventKind::Article => "article",
            EventKind::CollectorResult => "collector_result",
        }
    }
}

/// The replace rule (SPEC 2.1/2.2), stated once for the graph's `reduce`: among the records of
/// one identity, a tombstone cuts off every record before it; of the rest, the greatest
/// `(version, seq)` wins, and a winning delete removes the identity. Duplicated records (same
/// record delivered twice) count once.
pub fn current<'a, P>(records: impl Iterator<Item = &'a Record<P>> + Clone) -> Option<&'a P>
where
    P: 'a,
{
    let cut = records
        .clone()
        .filter(|r| matches!(r.change, Change::Tombstone))
        .map(|r| r.seq)
        .max();
    let winner = records
        .filter(|r| !matches!(r.change, Change::Tombstone))
        .filter(|r| cut.is_none_or(|c| r.seq > c))
        .max_by_key(|r| (r.version, r.seq))?;
    match &winner.change {
        Change::Upsert(p) => Some(p),
        Change::Delete | Change::Tombstone => None,
    }
}
