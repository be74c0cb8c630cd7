//! Trend clustering (SPEC 3.1, 3.2): live articles in the event-time window → near-duplicate groups, trends, per-trend state.
//!
//! The pipeline, each step a collection so that one new article only touches its neighbourhood:
//! 1. `upsert` the article records; the watermark is the latest `published_at` ever received;
//!    articles whose minute is within the window of the watermark are live.
//! 2. Token sets of the headlines (`text`), a capped token index proposing candidate pairs,
//!    and edges between pairs whose token sets overlap enough (`similarity`).
//! 3. Bounded label propagation over the edges, and near-duplicate groups (`cluster`).
//! 4. Per-trend state from its members, and the article → trend membership.

pub mod cluster;
pub mod ledger;
pub mod similarity;
pub mod text;

use differential_dataflow::lattice::Lattice;
use differential_dataflow::VecCollection;
use serde::{Deserialize, Serialize};
use timely::order::TotalOrder;
use timely::progress::Timestamp;

use crate::event::{Article, ArticleKey, Change, Record, TimestampMs};
use crate::hash::fnv1a;
use crate::output::Row;
use crate::upsert::upsert;

/// A live article's node in the similarity graph: a stable hash of its identity.
pub type Node = u64;

/// Milliseconds per minute: the window and the recent-activity counts work in whole minutes.
pub const MINUTE_MS: i64 = 60_000;

/// The node of an article identity.
pub fn node_of(key: &ArticleKey) -> Node {
    fnv1a(&[key.source.as_bytes(), key.external_id.as_bytes()])
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

/// The minute of a timestamp.
pub fn minute_of(ts: TimestampMs) -> i64 {
    ts.div_euclid(MINUTE_MS)
}

/// A live article as the clustering sees it.
#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
pub struct Doc {
    pub key: ArticleKey,
    pub title: String,
    pub published_at: TimestampMs,
}

/// `trends`: one row per live trend.
#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
pub struct TrendRow {
    pub trend_id: String,
    /// A real headline of the trend: the member whose words are most shared by the trend.
    pub headline: String,
    /// The most frequent words of the trend's headlines (at most 5).
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

/// Builds the trend graph over article records.
pub fn trends<'scope, T>(
    records: VecCollection<'scope, T, (ArticleKey, Record<Article>)>,
    config: TrendConfig,
) -> TrendOutputs<'scope, T>
where
    T: Timestamp + Lattice + TotalOrder + Ord + std::hash::Hash,
{
    let window_minutes = (config.window_ms / MINUTE_MS).max(1);
    let published = records.clone().flat_map(|(_, r)| match r.change {
        Change::Upsert(a) => Some(a.published_at),
        Change::Delete | Change::Tombstone => None,
    });
    let watermark = latest_minute(published);
    let watermark_ms = watermark.clone().map(|m| m * MINUTE_MS);
    let minutes = watermark
        .flat_map(move |wm| ((wm - window_minutes + 1)..=wm).map(move |m| (m, recency(wm, m))));
    let live = upsert(records)
        .map(|(key, a)| (minute_of(a.published_at), (key, a)))
        .join_map(minutes, |_m, (key, a), recency| {
            (
                node_of(key),
                (
                    Doc {
                        key: key.clone(),
                        title: a.title.clone(),
                        published_at: a.published_at,
                    },
                    *recency,
                ),
            )
        });
    let docs = live.clone().map(|(n, (doc, _))| (n, doc));

    // Similarity graph, clusters, near-duplicate groups.
    let tokens = docs.clone().map(|(n, doc)| (n, text::features(&doc.title)));
    let edges = similarity::edges(tokens, config.similarity);
    let labels = cluster::cluster(
        docs.clone().map(|(n, doc)| (n, doc.published_at)),
        edges.clone(),
        config.cluster,
    );
    let story = cluster::near_duplicates(docs.map(|(n, _)| n), edges);

    // Each cluster is named after its earliest article.
    let clustered = live
        .join_map(labels, |n, (doc, recency), label| {
            (*n, (*label, doc.clone(), *recency))
        })
        .join_map(story, |_n, (label, doc, recency), story| {
            (*label, (doc.clone(), *recency, *story))
        });
    let names = clustered
        .clone()
        .map(|(label, (doc, _, _))| (label, (doc.published_at, node_of(&doc.key))))
        .reduce(|_label, input, output| {
            output.push((*input[0].0, 1));
        });
    let members = clustered.join_map(names, |_label, (doc, recency, story), (_, name)| {
        (*name, (doc.clone(), *recency, *story))
    });
    let article_rows = members.clone().map(|(label, (doc, _, story))| {
        Row::TrendArticle(TrendArticleRow {
            source: doc.key.source.clone(),
            external_id: doc.key.external_id.clone(),
            trend_id: trend_id(label),
            story_id: format!("d{story:016x}"),
            published_at: doc.published_at,
            title: doc.title,
        })
    });
    let trend_rows = members
        .reduce(|label, input, output| {
            let members: Vec<(&Doc, Recency, Node)> = input
                .iter()
                .filter(|(_, n)| *n > 0)
                .map(|((doc, recency, story), _)| (doc, *recency, *story))
                .collect();
            if let Some(row) = trend_state(*label, &members) {
                output.push((row, 1));
            }
        })
        .map(|(_, row)| Row::Trend(row));
    TrendOutputs {
        rows: trend_rows.concat(article_rows),
        watermark: watermark_ms,
    }
}

/// The state of one trend from its members `(doc, recency, near-duplicate group)`.
pub fn trend_state(label: Node, members: &[(&Doc, Recency, Node)]) -> Option<TrendRow> {
    use std::collections::{BTreeMap, BTreeSet};
    if members.is_empty() {
        return None;
    }
    let mut word_count: BTreeMap<String, u64> = BTreeMap::new();
    let tokens: Vec<BTreeSet<String>> = members
        .iter()
        .map(|(doc, _, _)| text::tokens(&doc.title).into_iter().collect())
        .collect();
    for set in &tokens {
        for w in set {
            *word_count.entry(w.clone()).or_insert(0) += 1;
        }
    }
    let mut keywords: Vec<(&String, &u64)> = word_count.iter().collect();
    keywords.sort_by(|a, b| b.1.cmp(a.1).then(a.0.cmp(b.0)));
    let keywords: Vec<String> = keywords
        .into_iter()
        .take(5)
        .map(|(w, _)| w.clone())
        .collect();
    // Representative: highest mean share of its words across the trend; ties → earliest.
    let centrality = |set: &BTreeSet<String>| -> u64 {
        let total: u64 = set.iter().map(|w| word_count[w]).sum();
        total * 1_000_000 / (set.len() as u64 + 1)
    };
    let (rep, _) = members
        .iter()
        .zip(&tokens)
        .map(|((doc, _, _), set)| (doc, centrality(set)))
        .max_by(|(a, ca), (b, cb)| {
            ca.cmp(cb)
                .then((b.published_at, &b.key).cmp(&(a.published_at, &a.key)))
        })?;
    let a1h = members.iter().filter(|m| m.1 == Recency::Hour).count() as i64;
    let a24h = members.iter().filter(|m| m.1 >= Recency::Day).count() as i64;
    let rising_score = (a1h + 1) * 23_000_000 / (a24h - a1h + 23);
    Some(TrendRow {
        trend_id: trend_id(label),
        headline: rep.title.clone(),
        keywords,
        article_count: members.len() as u64,
        story_count: members.iter().map(|m| m.2).collect::<BTreeSet<_>>().len() as u64,
        source_count: members
            .iter()
            .map(|m| &m.0.key.source)
            .collect::<BTreeSet<_>>()
            .len() as u64,
        first_published_at: members.iter().map(|m| m.0.published_at).min()?,
        last_published_at: members.iter().map(|m| m.0.published_at).max()?,
        articles_1h: a1h as u64,
        articles_24h: a24h as u64,
        rising_score,
    })
}
