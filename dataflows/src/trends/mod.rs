//! Trend clustering (SPEC 3.1, 3.2): live articles in the event-time window → near-duplicate groups, trends, per-trend state.
//!
//! The definition (what `oracle::trend_tables` computes from scratch):
//! 1. The replace rule over the article records; the watermark is the latest `published_at`
//!    ever received; articles whose minute is within the window of the watermark are live.
//! 2. Token sets of the headlines (`text`); a token in at most `index_cap` live headlines
//!    proposes every pair of them, a commoner one only the pairs at most `band` places apart in
//!    its live headlines ordered by `(published_at, node)` (none when `band` is 0); an edge
//!    joins two live articles that share a token proposing them and whose token sets overlap
//!    enough (`similarity`).
//! 3. `rounds` rounds of synchronous label propagation over the edges, every article starting
//!    with its own node as label (`cluster`); near-duplicate groups are the connected
//!    components of the near-duplicate edges.
//! 4. A cluster is named after its earliest article; per-trend state from its members.
//!
//! The graph keeps the replace rule and the watermark as collections, and steps 2–4 in one
//! operator on worker 0 that holds the window's incremental state (`index`): an epoch's work is
//! proportional to the neighbourhoods it changes, not to the window.

pub mod cluster;
pub mod index;
pub mod ledger;
pub mod neighbours;
pub mod packed;
pub mod similarity;
pub mod text;

use differential_dataflow::lattice::Lattice;
use differential_dataflow::{AsCollection, VecCollection};
use serde::{Deserialize, Serialize};
use timely::dataflow::channels::pact::Exchange;
use timely::dataflow::operators::Operator;
use timely::order::TotalOrder;
use timely::progress::Timestamp;

use crate::blobs::{BlobStore, Serialized};
use crate::event::{Article, ArticleKey, Change, Record, TimestampMs};
use crate::hash::fnv1a;
use crate::keyed::{Stash, StateHasher};
use crate::output::Row;
use crate::upsert::upsert;

/// A live article's node in the similarity graph: a stable hash of its identity.
pub type Node = u64;

/// Keywords per trend: its most frequent words.
pub const MAX_KEYWORDS: usize = 5;

/// Milliseconds per minute: the window and the recent-activity counts work in whole minutes.
pub const MINUTE_MS: i64 = 60_000;

/// The node of an article identity.
pub fn node_of(key: &ArticleKey) -> Node {
    identity_node(&key.source, &key.external_id)
}

/// The node of the identity `(source, external_id)`: the one hash behind [`node_of`] and
/// [`Doc::node`].
fn identity_node(source: &str, external_id: &str) -> Node {
    fnv1a(&[source.as_bytes(), external_id.as_bytes()])
}

/// The public id of the trend whose earliest article has node `n`.
pub fn trend_id(n: Node) -> String {
    format!("t{n:016x}")
}

/// Parameters of the trend graph. See the README for how they were chosen.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct TrendConfig {
    /// Event-time window: articles older than watermark − window leave the live state.
    pub window_ms: i64,
    /// Similarity and clustering parameters.
    pub similarity: similarity::SimilarityConfig,
    pub cluster: cluster::ClusterConfig,
}

impl Default for TrendConfig {
    fn default() -> Self {
        TrendConfig {
            window_ms: 7 * 24 * 3_600_000,
            similarity: similarity::SimilarityConfig::default(),
            cluster: cluster::ClusterConfig::default(),
        }
    }
}

/// How recent an article is relative to the watermark.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
pub enum Recency {
    /// In the window, older than 24 hours.
    Older,
    /// Within the last 24 hours.
    Day,
    /// Within the last hour.
    Hour,
}

/// The recency of an article in `minute` when the watermark is in `wm_minute`.
pub fn recency(wm_minute: i64, minute: i64) -> Recency {
    match wm_minute - minute {
        d if d < 60 => Recency::Hour,
        d if d < 1440 => Recency::Day,
        _ => Recency::Older,
    }
}

/// A trend's rising score from its articles in the last hour and in the last 24 hours: the
/// rate of the last hour over the average hourly rate of the 23 hours before, as millionths.
pub fn rising_score(articles_1h: i64, articles_24h: i64) -> i64 {
    (articles_1h + 1) * 23_000_000 / (articles_24h - articles_1h + 23)
}

/// The minute of a timestamp.
pub fn minute_of(ts: TimestampMs) -> i64 {
    ts.div_euclid(MINUTE_MS)
}

/// A live article as the clustering sees it: its identity and headline in one allocation (the
/// trend state keeps one per article present, so three strings would be three allocations).
#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
pub struct Doc {
    /// The source, the external id and the title, one after another.
    text: Box<str>,
    source_len: u32,
    id_len: u32,
    pub published_at: TimestampMs,
}

impl Doc {
    pub fn new(key: &ArticleKey, title: &str, published_at: TimestampMs) -> Doc {
        let len = |s: &str| u32::try_from(s.len()).expect("an article key part under 4 GiB");
        let mut text =
            String::with_capacity(key.source.len() + key.external_id.len() + title.len());
        text.push_str(&key.source);
        text.push_str(&key.external_id);
        text.push_str(title);
        Doc {
            text: text.into_boxed_str(),
            source_len: len(&key.source),
            id_len: len(&key.external_id),
            published_at,
        }
    }

    /// The document's parts, borrowed.
    pub fn as_ref(&self) -> DocRef<'_> {
        let (source, rest) = self.text.split_at(self.source_len as usize);
        DocRef {
            source,
            rest,
            id_len: self.id_len,
            published_at: self.published_at,
        }
    }

    pub fn source(&self) -> &str {
        self.as_ref().source()
    }

    pub fn external_id(&self) -> &str {
        self.as_ref().external_id()
    }

    pub fn title(&self) -> &str {
        self.as_ref().title()
    }

    /// The node of this article's identity (see [`node_of`]).
    pub fn node(&self) -> Node {
        identity_node(self.source(), self.external_id())
    }

    /// Orders by identity: source, then external id.
    pub fn key_cmp(&self, other: &Doc) -> std::cmp::Ordering {
        self.as_ref().key_cmp(&other.as_ref())
    }
}

/// A [`Doc`] borrowed, wherever its text is kept (the trend state packs the texts of all its
/// articles in one buffer).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct DocRef<'a> {
    source: &'a str,
    /// The external id and the title, one after the other.
    rest: &'a str,
    id_len: u32,
    pub published_at: TimestampMs,
}

impl<'a> DocRef<'a> {
    /// A document of `source` whose `rest` is its external id (`id_len` bytes) then its
    /// title, as [`DocRef::rest`] gives them.
    pub fn from_parts(
        source: &'a str,
        rest: &'a str,
        id_len: u32,
        published_at: TimestampMs,
    ) -> DocRef<'a> {
        DocRef {
            source,
            rest,
            id_len,
            published_at,
        }
    }

    /// The external id and the title, one after the other.
    pub fn rest(&self) -> &'a str {
        self.rest
    }

    pub fn id_len(&self) -> u32 {
        self.id_len
    }

    pub fn source(&self) -> &'a str {
        self.source
    }

    pub fn external_id(&self) -> &'a str {
        &self.rest[..self.id_len as usize]
    }

    pub fn title(&self) -> &'a str {
        &self.rest[self.id_len as usize..]
    }

    /// Orders by identity: source, then external id.
    pub fn key_cmp(&self, other: &DocRef<'_>) -> std::cmp::Ordering {
        (self.source(), self.external_id()).cmp(&(other.source(), other.external_id()))
    }
}

/// `trends`: one row per live trend.
#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
pub struct TrendRow {
    pub trend_id: String,
    /// A real headline of the trend: the member whose words are most shared by the trend.
    pub headline: String,
    /// The most frequent words of the trend's headlines (at most [`MAX_KEYWORDS`]).
    pub keywords: Vec<String>,
    pub article_count: u64,
    /// Number of distinct near-duplicate groups (distinct stories) among the articles.
    pub story_count: u64,
    pub source_count: u64,
    pub first_published_at: TimestampMs,
    pub last_published_at: TimestampMs,
    pub articles_1h: u64,
    pub articles_24h: u64,
    /// Rate of the last hour over the average hourly rate of the 23 hours before, as
    /// millionths: `(a1h + 1) / ((a24h - a1h) / 23 + 1)`.
    pub rising_score: i64,
}

/// `trend_articles`: the article → trend membership.
#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
pub struct TrendArticleRow {
    pub source: String,
    pub external_id: String,
    pub trend_id: String,
    /// Near-duplicate group of the article (`d` + hash), shared by trivially re-worded copies.
    pub story_id: String,
    pub published_at: TimestampMs,
    pub title: String,
}

/// Latest minute among `timestamps`, computed hierarchically (minutes per hour, hours per day,
/// then days) so that each step reduces a small group.
fn latest_minute<'scope, T>(
    timestamps: VecCollection<'scope, T, TimestampMs>,
) -> VecCollection<'scope, T, i64>
where
    T: Timestamp + Lattice + Ord,
{
    let max = |_key: &i64, input: &[(&i64, isize)], output: &mut Vec<(i64, isize)>| {
        if let Some((m, _)) = input.iter().rev().find(|(_, n)| *n > 0) {
            output.push((**m, 1));
        }
    };
    timestamps
        .map(|ts| {
            let m = minute_of(ts);
            (m.div_euclid(60), m)
        })
        .reduce(max)
        .map(|(h, m)| (h.div_euclid(24), m))
        .reduce(max)
        .map(|(_, m)| (0i64, m))
        .reduce(max)
        .map(|(_, m)| m)
}

/// The trend graph's outputs: rows of `trends` and `trend_articles`, and the watermark (the
/// latest published minute received, as a one-element collection of milliseconds).
pub struct TrendOutputs<'scope, T: Timestamp + Lattice> {
    pub rows: VecCollection<'scope, T, Row>,
    pub watermark: VecCollection<'scope, T, TimestampMs>,
}

/// What the clustering operator reads: the replace rule's article changes and the watermark.
#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
enum IndexInput {
    Doc(Node, Doc),
    Watermark(i64),
}

/// The payload the replace rule keeps per article identity: only what the trends read.
#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
struct Headline {
    title: String,
    published_at: TimestampMs,
}

/// Builds the trend graph over article records. The replace rule keeps the headlines it
/// holds serialized in `headlines` (this worker's store), not in its state: the clustering
/// operator holds the live ones already.
pub fn trends<'scope, T>(
    records: VecCollection<'scope, T, (ArticleKey, Record<Article>)>,
    config: TrendConfig,
    headlines: Box<dyn BlobStore>,
) -> TrendOutputs<'scope, T>
where
    T: Timestamp + Lattice + TotalOrder + Ord + std::hash::Hash,
{
    let published = records.clone().flat_map(|(_, r)| match r.change {
        Change::Upsert(a) => Some(a.published_at),
        Change::Delete | Change::Tombstone => None,
    });
    let watermark = latest_minute(published);
    let watermark_ms = watermark.clone().map(|m| m * MINUTE_MS);
    let titles = records.map(|(key, r)| {
        let change = match r.change {
            Change::Upsert(a) => Change::Upsert(Headline {
                title: a.title,
                published_at: a.published_at,
            }),
            Change::Delete => Change::Delete,
            Change::Tombstone => Change::Tombstone,
        };
        (
            key,
            Record {
                seq: r.seq,
                version: r.version,
                change,
            },
        )
    });
    let docs = upsert(titles, Serialized::new(headlines))
        .map(|(key, h)| IndexInput::Doc(node_of(&key), Doc::new(&key, &h.title, h.published_at)));
    let input = docs.concat(watermark.map(IndexInput::Watermark));
    // One clustering state for the whole window, on worker 0: clusters span any partitioning.
    let exchange = Exchange::new(|_: &(IndexInput, T, isize)| 0u64);
    let rows = input
        .inner
        .unary_frontier(exchange, "TrendIndex", move |_capability, _info| {
            let mut stash = Stash::<T, IndexInput>::default();
            let mut state = index::TrendIndex::new(config);
            move |(input, frontier), output| {
                input.for_each(|cap, data| stash.absorb(&cap, data));
                stash.complete(frontier, |cap, updates| {
                    let mut docs = Vec::new();
                    let mut marks = Vec::new();
                    for (x, r) in updates {
                        match x {
                            IndexInput::Doc(n, d) => docs.push((n, d, r)),
                            IndexInput::Watermark(m) => marks.push((m, r)),
                        }
                    }
                    let time = cap.time().clone();
                    let changes = state.apply(docs, marks);
                    output
                        .session(&cap)
                        .give_iterator(changes.into_iter().map(|(row, r)| (row, time.clone(), r)));
                });
            }
        })
        .as_collection();
    TrendOutputs {
        rows,
        watermark: watermark_ms,
    }
}

/// The state of one trend from its members `(doc, recency, near-duplicate group)`.
pub fn trend_state(label: Node, members: &[(&Doc, Recency, Node)]) -> Option<TrendRow> {
    let words: Vec<Vec<String>> = members
        .iter()
        .map(|m| text::features(m.0.title()))
        .collect();
    let members: Vec<Member<'_, String>> = members
        .iter()
        .zip(&words)
        .map(|((doc, recency, story), words)| Member {
            doc: doc.as_ref(),
            recency: *recency,
            story: *story,
            words,
        })
        .collect();
    trend_row(label, &members, String::as_str)
}

/// One member of a trend as [`trend_row`] reads it: `words` are its distinct words, in any
/// representation that `word` spells out.
pub struct Member<'a, W> {
    pub doc: DocRef<'a>,
    pub recency: Recency,
    /// Near-duplicate group.
    pub story: Node,
    pub words: &'a [W],
}

/// What defines a trend's row apart from its name: which member is its headline, its
/// keywords, and its counts.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct TrendSummary<K> {
    /// Index in the members of the representative, whose title is the headline.
    pub rep: usize,
    /// The most frequent words (at most [`MAX_KEYWORDS`]), most frequent first.
    pub keywords: Vec<K>,
    pub counts: TrendCounts,
}

/// The numbers of a `trends` row (see [`TrendRow`]).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct TrendCounts {
    pub article_count: u64,
    pub story_count: u64,
    pub source_count: u64,
    pub first_published_at: TimestampMs,
    pub last_published_at: TimestampMs,
    pub articles_1h: u64,
    pub articles_24h: u64,
    pub rising_score: i64,
}

impl<K> TrendSummary<K> {
    /// The `trends` row of the trend named `label` whose representative has `headline`.
    pub fn row<'a>(
        &'a self,
        label: Node,
        headline: &str,
        word: impl Fn(&'a K) -> &'a str,
    ) -> TrendRow {
        self.counts
            .row(label, headline, self.keywords.iter().map(word))
    }
}

impl TrendCounts {
    /// The `trends` row with these numbers of the trend named `label`.
    pub fn row<'a>(
        &self,
        label: Node,
        headline: &str,
        keywords: impl Iterator<Item = &'a str>,
    ) -> TrendRow {
        TrendRow {
            trend_id: trend_id(label),
            headline: headline.to_string(),
            keywords: keywords.map(str::to_string).collect(),
            article_count: self.article_count,
            story_count: self.story_count,
            source_count: self.source_count,
            first_published_at: self.first_published_at,
            last_published_at: self.last_published_at,
            articles_1h: self.articles_1h,
            articles_24h: self.articles_24h,
            rising_score: self.rising_score,
        }
    }
}

/// The `trends` row of the trend named `label` (the definition, shared by the oracle and the
/// incremental state).
pub fn trend_row<'w, W: Eq + std::hash::Hash + 'w>(
    label: Node,
    members: &[Member<'w, W>],
    word: impl Fn(&'w W) -> &'w str,
) -> Option<TrendRow> {
    let summary = trend_summary(members, &word)?;
    Some(summary.row(label, members[summary.rep].doc.title(), |w: &&'w W| word(w)))
}

/// The summary of a trend from its members (see [`trend_row`]); keywords as the members'
/// own word representation.
pub fn trend_summary<'w, W: Eq + std::hash::Hash + 'w>(
    members: &[Member<'w, W>],
    word: impl Fn(&'w W) -> &'w str,
) -> Option<TrendSummary<&'w W>> {
    use std::collections::{HashMap, HashSet};
    if members.is_empty() {
        return None;
    }
    let mut word_count: HashMap<&W, u64, StateHasher> = HashMap::default();
    for m in members {
        for w in m.words {
            *word_count.entry(w).or_insert(0) += 1;
        }
    }
    let mut keywords: Vec<(u64, &str, &'w W)> =
        word_count.iter().map(|(w, n)| (*n, word(w), *w)).collect();
    keywords.sort_by(|a, b| b.0.cmp(&a.0).then(a.1.cmp(b.1)));
    let keywords: Vec<&'w W> = keywords
        .into_iter()
        .take(MAX_KEYWORDS)
        .map(|(_, _, w)| w)
        .collect();
    // Representative: highest mean share of its words across the trend; ties → earliest.
    let centrality = |m: &Member<'_, W>| -> u64 {
        let total: u64 = m.words.iter().map(|w| word_count[&w]).sum();
        total * 1_000_000 / (m.words.len() as u64 + 1)
    };
    let rep = members
        .iter()
        .enumerate()
        .map(|(i, m)| (i, m.doc, centrality(m)))
        .max_by(|(_, a, ca), (_, b, cb)| {
            ca.cmp(cb)
                .then(b.published_at.cmp(&a.published_at))
                .then_with(|| b.key_cmp(a))
        })
        .map(|(i, _, _)| i)?;
    let a1h = members
        .iter()
        .filter(|m| m.recency == Recency::Hour)
        .count() as i64;
    let a24h = members.iter().filter(|m| m.recency >= Recency::Day).count() as i64;
    let rising_score = rising_score(a1h, a24h);
    Some(TrendSummary {
        rep,
        keywords,
        counts: TrendCounts {
            article_count: members.len() as u64,
            story_count: members
                .iter()
                .map(|m| m.story)
                .collect::<HashSet<_>>()
                .len() as u64,
            source_count: members
                .iter()
                .map(|m| m.doc.source())
                .collect::<HashSet<_, StateHasher>>()
                .len() as u64,
            first_published_at: members.iter().map(|m| m.doc.published_at).min()?,
            last_published_at: members.iter().map(|m| m.doc.published_at).max()?,
            articles_1h: a1h as u64,
            articles_24h: a24h as u64,
            rising_score,
        },
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn key(source: &str, external_id: &str) -> ArticleKey {
        ArticleKey {
            source: source.into(),
            external_id: external_id.into(),
        }
    }

    #[test]
    fn a_doc_gives_back_its_parts() {
        for (source, id, title) in [
            ("reuters", "a-1", "Markets rally"),
            ("", "", ""),
            ("s", "", "Zürich: déjà vu ✓"),
            ("ab", "c", "d"),
            ("a", "bc", "d"),
        ] {
            let d = Doc::new(&key(source, id), title, 7);
            assert_eq!(
                (d.source(), d.external_id(), d.title()),
                (source, id, title)
            );
            assert_eq!(d.node(), node_of(&key(source, id)));
            assert_eq!(d.published_at, 7);
        }
        // The same text split differently is another document.
        let (a, b) = (
            Doc::new(&key("ab", "c"), "d", 0),
            Doc::new(&key("a", "bc"), "d", 0),
        );
        assert_ne!(a, b);
        assert_eq!(a.key_cmp(&b), std::cmp::Ordering::Greater);
        assert_ne!(
            Doc::new(&key("a", "b"), "c", 0),
            Doc::new(&key("a", "b"), "c", 1)
        );
    }
}
