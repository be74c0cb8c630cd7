//! A plain sequential reference for the metrics graph, written the obvious way with maps; tests and `run --verify` compare against it.

use std::collections::{BTreeMap, HashMap};

use crate::event::{
    day_of, Article, ArticleKey, Change, CollectorResult, Event, Record, Scores, SentimentLabel,
    Text, TimestampMs,
};
use crate::metrics::{CollectorResultRow, DailyAgg, DailyKey, MetricFact, ScoreRow, SentimentRow};
use crate::output::Row;
use crate::trends::cluster::Label;
use crate::trends::similarity::{is_near_duplicate, jaccard};
use crate::trends::{
    minute_of, node_of, recency, text, trend_id, trend_state, Doc, Node, Recency, TrendArticleRow,
    TrendConfig, MINUTE_MS,
};

/// Applies records one by one in sequence order: a tombstone forgets the identity; any other
/// record replaces the identity's state when its `(version, seq)` is greater.
pub fn current_results(events: &[Event]) -> BTreeMap<Text, CollectorResult> {
    let records: Vec<(&Text, &Record<std::sync::Arc<CollectorResult>>)> = events
        .iter()
        .filter_map(|e| match e {
            Event::CollectorResult(id, r) => Some((id, r)),
            Event::Article(..) => None,
        })
        .collect();
    apply_in_order(records)
        .into_iter()
        .map(|(id, r)| (id, std::sync::Arc::unwrap_or_clone(r)))
        .collect()
}

/// The current articles, by the same rule as [`current_results`].
pub fn current_articles(events: &[Event]) -> BTreeMap<ArticleKey, Article> {
    let records: Vec<(&ArticleKey, &Record<Box<Article>>)> = events
        .iter()
        .filter_map(|e| match e {
            Event::Article(k, r) => Some((k, r)),
            Event::CollectorResult(..) => None,
        })
        .collect();
    apply_in_order(records)
        .into_iter()
        .map(|(key, a)| (key, *a))
        .collect()
}

fn apply_in_order<K: Ord + Clone + std::hash::Hash, P: Clone>(
    mut records: Vec<(&K, &Record<P>)>,
) -> BTreeMap<K, P> {
    records.sort_by_key(|(_, r)| r.seq);
    let mut state: HashMap<&K, &Record<P>> = HashMap::new();
    for (id, r) in records {
        if matches!(r.change, Change::Tombstone) {
            state.remove(id);
            continue;
        }
        let newer = match state.get(id) {
            None => true,
            Some(old) => (r.version, r.seq) > (old.version, old.seq),
        };
        if newer {
            state.insert(id, r);
        }
    }
    state
        .into_iter()
        .filter_map(|(id, r)| match &r.change {
            Change::Upsert(p) => Some((id.clone(), p.clone())),
            _ => None,
        })
        .collect()
}

/// Every metrics table computed from scratch from the given events, as a row → count map.
pub fn metrics_tables(events: &[Event]) -> BTreeMap<Row, i64> {
    let current = current_results(events);
    let mut rows: BTreeMap<Row, i64> = BTreeMap::new();
    let mut daily: HashMap<DailyKey, Vec<&Scores>> = HashMap::new();
    for (id, r) in &current {
        let day = day_of(r.created_at);
        let mut add = |row: Row| *rows.entry(row).or_insert(0) += 1;
        add(Row::MetricFact(Box::new(MetricFact {
            id: id.clone(),
            customer_id: r.customer_id.clone(),
            brand_id: r.brand_id.clone(),
            query_id: r.query_id.clone(),
            collector_type: r.collector_type.clone(),
            topic: r.topic.clone(),
            day,
            created_at: r.created_at,
            version: r.version,
        })));
        add(Row::CollectorResult(CollectorResultRow {
            id: id.clone(),
            brand_name: r.brand_name.clone(),
            created_at: r.created_at,
            version: r.version,
            raw_answer: r.raw_answer.clone(),
        }));
        let mut entities: Vec<(Option<Text>, Option<Text>, &Scores)> = vec![(None, None, &r.brand)];
        for c in &r.competitors {
            entities.push((Some(c.competitor_id.clone()), c.name.clone(), &c.scores));
        }
        for (competitor_id, competitor_name, s) in entities {
            let metric = ScoreRow {
                result_id: id.clone(),
                competitor_id: competitor_id.clone(),
                competitor_name,
                visibility_index: s.visibility_index,
                share_of_answers: s.share_of_answers,
                mentions: s.mentions,
                positions: s.positions.clone(),
                best_position: s.positions.iter().min().copied(),
            };
            let is_brand = competitor_id.is_none();
            add(if is_brand {
                Row::BrandMetric(metric)
            } else {
                Row::CompetitorMetric(metric)
            });
            if let Some(sent) = &s.sentiment {
                let row = SentimentRow {
                    result_id: id.clone(),
                    competitor_id: competitor_id.clone(),
                    label: sent.label,
                    score: sent.score,
                };
                add(if is_brand {
                    Row::BrandSentiment(row)
                } else {
                    Row::CompetitorSentiment(row)
                });
            }
            daily
                .entry(DailyKey {
                    customer_id: r.customer_id.clone(),
                    brand_id: r.brand_id.clone(),
                    competitor_id,
                    collector_type: r.collector_type.clone(),
                    day,
                })
                .or_default()
                .push(s);
        }
    }
    for (key, answers) in daily {
        let mut agg = DailyAgg {
            answers: answers.len() as i64,
            ..DailyAgg::default()
        };
        for s in answers {
            agg.mentions += i64::from(s.mentions);
            agg.visibility_sum += s.visibility_index;
            agg.share_of_answers_sum += s.share_of_answers;
            for p in s.positions.iter() {
                agg.position_sum += i64::from(*p);
                agg.position_count += 1;
                agg.best_position = Some(agg.best_position.map_or(*p, |b| b.min(*p)));
            }
            if let Some(sent) = &s.sentiment {
                agg.sentiment_sum += sent.score;
                agg.sentiment_count += 1;
                match sent.label {
                    SentimentLabel::Positive => agg.positive += 1,
                    SentimentLabel::Neutral => agg.neutral += 1,
                    SentimentLabel::Negative => agg.negative += 1,
                }
            }
        }
        *rows.entry(Row::Daily(key, Box::new(agg))).or_insert(0) += 1;
    }
    rows
}

/// The trend tables computed from scratch, the obvious way, by the definition in
/// `trends/mod.rs`: window, capped index, Jaccard edges, `rounds` synchronous rounds of label
/// propagation, near-duplicate components, clusters named after their earliest article.
pub fn trend_tables(events: &[Event], config: TrendConfig) -> BTreeMap<Row, i64> {
    let mut rows = BTreeMap::new();
    let Some(wm) = events
        .iter()
        .filter_map(|e| match e {
            Event::Article(
                _,
                Record {
                    change: Change::Upsert(a),
                    ..
                },
            ) => Some(minute_of(a.published_at)),
            _ => None,
        })
        .max()
    else {
        return rows;
    };
    let window = (config.window_ms / MINUTE_MS).max(1);
    let docs: BTreeMap<Node, (Doc, Recency)> = current_articles(events)
        .into_iter()
        .filter(|(_, a)| minute_of(a.published_at) > wm - window)
        .map(|(key, a)| {
            let r = recency(wm, minute_of(a.published_at));
            (node_of(&key), (Doc::new(&key, &a.title, a.published_at), r))
        })
        .collect();
    let tokens: BTreeMap<Node, Vec<String>> = docs
        .iter()
        .map(|(n, (d, _))| (*n, text::features(d.title())))
        .collect();
    let mut df: HashMap<&String, u64> = HashMap::new();
    for ts in tokens.values() {
        for t in ts {
            *df.entry(t).or_insert(0) += 1;
        }
    }
    // Each word over the cap: its live articles' places in `(published_at, node)` order.
    let sim = config.similarity;
    let mut place: HashMap<(&String, Node), usize> = HashMap::new();
    for t in df.keys().filter(|t| df[*t] > sim.index_cap) {
        let mut holders: Vec<(TimestampMs, Node)> = tokens
            .iter()
            .filter(|(_, ts)| ts.contains(t))
            .map(|(node, _)| (docs[node].0.published_at, *node))
            .collect();
        holders.sort_unstable();
        for (i, (_, node)) in holders.into_iter().enumerate() {
            place.insert((*t, node), i);
        }
    }
    let proposes = |t: &String, a: &Node, b: &Node| {
        df[t] <= sim.index_cap || place[&(t, *a)].abs_diff(place[&(t, *b)]) <= sim.band
    };
    // Every pair of live articles, checked against the definition directly.
    let mut neighbours: BTreeMap<Node, Vec<Node>> =
        tokens.keys().map(|n| (*n, Vec::new())).collect();
    let mut dup_parent: BTreeMap<Node, Node> = tokens.keys().map(|n| (*n, *n)).collect();
    let nodes: Vec<Node> = tokens.keys().copied().collect();
    for (i, a) in nodes.iter().enumerate() {
        for b in &nodes[i + 1..] {
            let (ta, tb) = (&tokens[a], &tokens[b]);
            let candidate = ta.iter().any(|t| tb.contains(t) && proposes(t, a, b));
            if !candidate {
                continue;
            }
            let j = jaccard(ta, tb);
            let dup = is_near_duplicate(ta, tb, j, sim);
            if j >= sim.min_jaccard || dup {
                neighbours.entry(*a).or_default().push(*b);
                neighbours.entry(*b).or_default().push(*a);
            }
            if dup {
                let (ra, rb) = (find(&mut dup_parent, *a), find(&mut dup_parent, *b));
                let (lo, hi) = (ra.min(rb), ra.max(rb));
                dup_parent.insert(hi, lo);
            }
        }
    }
    let mut labels: BTreeMap<Node, Label> = docs.keys().map(|n| (*n, *n)).collect();
    for _ in 0..config.cluster.rounds.max(1) {
        let mut next = BTreeMap::new();
        for (n, ns) in &neighbours {
            let mut votes: BTreeMap<Label, isize> = BTreeMap::new();
            *votes.entry(labels[n]).or_insert(0) += 1;
            for m in ns {
                *votes.entry(labels[m]).or_insert(0) += 1;
            }
            let best = votes.values().max().copied().unwrap_or(0);
            let label = votes
                .iter()
                .find(|(_, v)| **v == best)
                .map(|(l, _)| *l)
                .unwrap_or(labels[n]);
            next.insert(*n, label);
        }
        labels = next;
    }
    let mut clusters: BTreeMap<Label, Vec<Node>> = BTreeMap::new();
    for (n, l) in &labels {
        clusters.entry(*l).or_default().push(*n);
    }
    for members in clusters.values() {
        let name = members
            .iter()
            .map(|n| (docs[n].0.published_at, *n))
            .min()
            .map(|(_, n)| n)
            .unwrap_or_default();
        let info: Vec<(&Doc, Recency, Node)> = members
            .iter()
            .map(|n| (&docs[n].0, docs[n].1, find(&mut dup_parent, *n)))
            .collect();
        for (doc, _, story) in &info {
            rows.insert(
                Row::TrendArticle(TrendArticleRow {
                    source: doc.source().to_string(),
                    external_id: doc.external_id().to_string(),
                    trend_id: trend_id(name),
                    story_id: format!("d{story:016x}"),
                    published_at: doc.published_at,
                    title: doc.title().to_string(),
                }),
                1,
            );
        }
        if let Some(row) = trend_state(name, &info) {
            rows.insert(Row::Trend(row), 1);
        }
    }
    rows
}

fn find(parent: &mut BTreeMap<Node, Node>, n: Node) -> Node {
    let p = parent[&n];
    if p == n {
        return n;
    }
    let root = find(parent, p);
    parent.insert(n, root);
    root
}
