//! The incremental trend state: the live window's token index, similarity graph, label-propagation rounds, near-duplicate groups and emitted rows, updated per epoch from that epoch's changes only.
//!
//! [`TrendIndex::apply`] takes one epoch's article changes and the watermark after it and
//! returns the changes of the `trends` and `trend_articles` rows. The result after any epoch is
//! the definition of `trends/mod.rs`, computed from scratch by `oracle::trend_tables`; only the
//! work differs: an epoch costs work proportional to the neighbourhoods it touches.
//! - Tokens are interned (`u32`); postings list the live articles of each token, by slot, or
//!   with a band in `(published_at, node)` order, the order a token over the cap draws it in.
//! - Edges are kept per article as sorted neighbour lists, delta-encoded (`neighbours`); an
//!   epoch rewrites each changed list once. Only articles that enter or leave the window, the
//!   postings of tokens that cross the index cap, and the survivors within `band` places of an
//!   article placed or removed among them in a token over the cap, are re-scored.
//! - Label propagation keeps every round's label per article, and for rounds ≥ 2 a lower bound
//!   of the winning label's margin ("slack"): a changed vote that cannot overturn the winner
//!   costs O(1); only a node whose slack runs out re-counts its neighbourhood. Round 1 is the
//!   smallest label of the closed neighbourhood (every label has one vote), kept as a minimum.
//!   Label changes of round r − 1 are pushed to the neighbours for round r.
//! - Clusters (final labels), near-duplicate groups and trend rows are recomputed only for the
//!   clusters an epoch touched. An emitted `trends` row is kept as its summary (numbers,
//!   interned keywords, the representative's slot), and spelt out again when retracted.

use std::collections::{BTreeMap, HashMap, HashSet};
use std::hash::BuildHasher;

use hashbrown::HashTable;
use smallvec::SmallVec;

use super::neighbours::AdjacencyLists;
use super::packed::{reserve_gently, Packed};
use super::similarity::{is_near_duplicate, jaccard, jaccard_of_counts, near_duplicate_of_counts};
use super::MINUTE_MS;
use super::{
    minute_of, recency, trend_id, Doc, DocRef, Node, Recency, TrendArticleRow, TrendConfig,
    TrendCounts, MAX_KEYWORDS,
};
use crate::dense::DenseMap;
use crate::event::TimestampMs;
use crate::keyed::StateHasher;
use crate::output::Row;
use crate::prefetch::prefetch;

type Slot = u32;
type Map<K, V> = HashMap<K, V, StateHasher>;
type Set<K> = HashSet<K, StateHasher>;

/// One article present under the replace rule (live or outside the window).
struct Article {
    /// The article's source (in `sources`), and where its external id ends in its text (in
    /// `texts`).
    source: u32,
    id_len: u32,
    published_at: TimestampMs,
    live: bool,
    /// Near-duplicate group: the smallest node of the group.
    story: Node,
    /// The `(trend, story)` the emitted `trend_articles` row names, when `has_row` (a flag
    /// beside `live`: an `Option` would take 8 more bytes per slot).
    row: (Node, Node),
    has_row: bool,
    /// Position in its cluster's member list.
    pos: u32,
}

impl Article {
    /// The `(trend, story)` of the emitted `trend_articles` row, if one is emitted.
    fn emitted(&self) -> Option<(Node, Node)> {
        self.has_row.then_some(self.row)
    }

    fn take_emitted(&mut self) -> Option<(Node, Node)> {
        let row = self.emitted();
        self.has_row = false;
        row
    }

    fn set_emitted(&mut self, row: (Node, Node)) {
        self.has_row = true;
        self.row = row;
    }
}

/// An emitted `trends` row as the index keeps it, one per live trend: the representative's
/// slot (its title is the headline), the interned keywords inline, and the numbers, the
/// counts as `u32` (each is at most the number of slots; the rising score is a function of
/// two of them). 64 bytes.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
struct Emitted {
    rep: Slot,
    keyword_count: u8,
    keywords: [u32; MAX_KEYWORDS],
    /// Articles, stories, sources, articles in the last hour, in the last 24 hours.
    counts: [u32; 5],
    first_published_at: TimestampMs,
    last_published_at: TimestampMs,
}

impl Emitted {
    fn new(rep: Slot, keywords: &[u32], c: &TrendCounts) -> Emitted {
        let mut ids = [0; MAX_KEYWORDS];
        ids[..keywords.len()].copy_from_slice(keywords);
        let count = |n: u64| u32::try_from(n).expect("a trend's counts are at most its slots");
        Emitted {
            rep,
            keyword_count: keywords.len() as u8,
            keywords: ids,
            counts: [
                count(c.article_count),
                count(c.story_count),
                count(c.source_count),
                count(c.articles_1h),
                count(c.articles_24h),
            ],
            first_published_at: c.first_published_at,
            last_published_at: c.last_published_at,
        }
    }

    fn keywords(&self) -> &[u32] {
        &self.keywords[..self.keyword_count as usize]
    }

    fn counts(&self) -> TrendCounts {
        let [articles, stories, sources, a1h, a24h] = self.counts.map(u64::from);
        TrendCounts {
            article_count: articles,
            story_count: stories,
            source_count: sources,
            first_published_at: self.first_published_at,
            last_published_at: self.last_published_at,
            articles_1h: a1h,
            articles_24h: a24h,
            rising_score: super::rising_score(a1h as i64, a24h as i64),
        }
    }
}

/// Token dictionary with live document frequencies and postings.
#[derive(Default)]
struct Tokens {
    ids: Map<Box<str>, u32>,
    words: Vec<Box<str>>,
    postings: Vec<Vec<Slot>>,
}

impl Tokens {
    fn intern(&mut self, word: &str) -> u32 {
        if let Some(id) = self.ids.get(word) {
            return *id;
        }
        let id = self.words.len() as u32;
        self.ids.insert(word.into(), id);
        self.words.push(word.into());
        self.postings.push(Vec::new());
        id
    }

    fn df(&self, t: u32) -> u64 {
        self.postings[t as usize].len() as u64
    }
}

/// The source names of the articles present, each held once with the number of articles
/// that name it (an article keeps the id); an id whose last article left is reused.
#[derive(Default)]
struct Sources {
    ids: Map<Box<str>, u32>,
    names: Vec<Box<str>>,
    articles: Vec<u32>,
    free: Vec<u32>,
}

impl Sources {
    /// The id of `name`, counting one more article that names it.
    fn acquire(&mut self, name: &str) -> u32 {
        if let Some(&id) = self.ids.get(name) {
            self.articles[id as usize] += 1;
            return id;
        }
        let id = match self.free.pop() {
            Some(id) => {
                self.names[id as usize] = name.into();
                self.articles[id as usize] = 1;
                id
            }
            None => {
                self.names.push(name.into());
                self.articles.push(1);
                u32::try_from(self.names.len() - 1).expect("under 2^32 sources")
            }
        };
        self.ids.insert(name.into(), id);
        id
    }

    /// One article fewer names source `id`.
    fn release(&mut self, id: u32) {
        let n = &mut self.articles[id as usize];
        *n = n
            .checked_sub(1)
            .expect("a source is released once per article");
        if *n == 0 {
            let name = std::mem::take(&mut self.names[id as usize]);
            self.ids.remove(&name);
            self.free.push(id);
        }
    }

    fn name(&self, id: u32) -> &str {
        &self.names[id as usize]
    }
}

/// The slot of each present article by node: a table of slots hashed by the node each slot
/// holds (`nodes[slot]`), 4 bytes per entry where a map from node to slot takes 16. A slot
/// is in the table only while `nodes[slot]` is its node.
#[derive(Default)]
struct SlotByNode {
    table: HashTable<Slot>,
    hasher: StateHasher,
}

impl SlotByNode {
    fn get(&self, nodes: &[Node], node: Node) -> Option<Slot> {
        let hash = self.hasher.hash_one(node);
        self.table
            .find(hash, |&s| nodes[s as usize] == node)
            .copied()
    }

    /// Maps `node` to `slot` (whose node it must be), replacing any slot it had.
    fn insert(&mut self, nodes: &[Node], node: Node, slot: Slot) {
        debug_assert_eq!(nodes[slot as usize], node);
        let hash = self.hasher.hash_one(node);
        match self.table.find_mut(hash, |&s| nodes[s as usize] == node) {
            Some(s) => *s = slot,
            None => {
                let hasher = &self.hasher;
                self.table
                    .insert_unique(hash, slot, |&s| hasher.hash_one(nodes[s as usize]));
            }
        }
    }

    fn remove(&mut self, nodes: &[Node], node: Node) {
        let hash = self.hasher.hash_one(node);
        if let Ok(entry) = self.table.find_entry(hash, |&s| nodes[s as usize] == node) {
            entry.remove();
        }
    }
}

/// The incremental trend state of one window (see the module documentation).
pub struct TrendIndex {
    config: TrendConfig,
    rounds: usize,
    window_minutes: i64,
    articles: Vec<Option<Article>>,
    /// Slots freed in earlier epochs (a slot is never reused in the epoch that freed it).
    free: Vec<Slot>,
    freed_now: Vec<Slot>,
    by_node: SlotByNode,
    /// Present articles by published minute (live or not).
    by_minute: BTreeMap<i64, Vec<Slot>>,
    tokens: Tokens,
    /// Label of round r (1-based) of each slot at `labels[r - 1][slot]`: a slot whose node is
    /// the label. One vector per round: a round reads the labels of the round before at random
    /// slots, and a vector of one round's labels stays in cache where all rounds' would not.
    labels: Vec<Vec<Slot>>,
    /// Lower bound of the winner's vote margin, per round and slot (unused for round 1),
    /// capped at `i8::MAX`: a lower bound still, and a byte per slot and round.
    slack: Vec<Vec<i8>>,
    /// Final label → live members (most clusters are one article: held inline).
    clusters: DenseMap<Slot, SmallVec<[Slot; 4]>>,
    /// Emitted `trends` rows by trend name (see [`TrendIndex::materialize`]).
    emitted_trends: DenseMap<Node, Emitted>,
    /// The watermark minute as a multiset (the input collection may retract).
    watermarks: BTreeMap<i64, isize>,
    watermark: Option<i64>,
    /// Per slot: the node (the order of labels), the epoch role, and scratch space.
    nodes: Vec<Node>,
    /// Per slot: the article's interned distinct tokens, sorted by id. Kept beside the
    /// articles so that checking a pair reads only these.
    toks: Packed<Vec<u32>>,
    /// Per slot: the article's external id and title, one after the other.
    texts: Packed<String>,
    /// The sources of the articles present, each once.
    sources: Sources,
    /// Per slot: similarity neighbours (live articles), sorted and delta-encoded.
    adj: AdjacencyLists,
    /// Near-duplicate neighbours of the slots that have any (a subset of `adj`, sorted): few
    /// articles have one, so not a field of every article.
    dups: Map<Slot, Box<[Slot]>>,
    role: Vec<u8>,
    stamp: Vec<u32>,
    stamp_now: u32,
    shared: Vec<u32>,
    /// Per slot: its place in round 1's touched list, or [`UNTOUCHED`] (reset for the touched
    /// slots after the round).
    touch_pos: Vec<u32>,
    /// The slots in the current round's (≥ 2) re-count list.
    recount_marks: SlotBits,
    /// Working space for rewriting neighbour lists.
    scratch: Vec<Slot>,
    scratch_add: Vec<Slot>,
    summary_scratch: SummaryScratch,
}

/// A new neighbour marked as a near-duplicate edge while new edges are grouped by end (slots
/// stay below 2^31).
const DUP: u32 = 1 << 31;

/// A slot not in the current round's touched list (see `touch_pos`).
const UNTOUCHED: u32 = u32::MAX;

const SURVIVOR: u8 = 0;
const ENTERING: u8 = 1;
const LEAVING: u8 = 2;

/// Scratch space of a vote: votes per label (a slot), zero between votes, and the labels seen.
#[derive(Default)]
struct Tally {
    count: Vec<u32>,
    seen: Vec<Slot>,
}

/// How many reads ahead a loop over scattered slots prefetches (see [`prefetch`]).
const AHEAD: usize = 16;

/// Scratch space of a trend summary: members per token (zero between summaries), the tokens
/// seen, and the members' stories and sources.
#[derive(Default)]
struct SummaryScratch {
    word_count: Vec<u32>,
    seen: Vec<u32>,
    stories: Vec<Node>,
    sources: Vec<u32>,
}

/// A surviving node whose votes changed in round 1.
struct Touch {
    n: Slot,
    /// Its label in round 1 before the epoch.
    before: Slot,
    /// The smallest label seen so far.
    label: Slot,
    /// The smallest label lost a vote, so count again.
    recount: bool,
}

/// A set of slots, a bit each: read on every changed vote, and 100,000 slots take 12.5 KB,
/// which stays in cache where a word per slot would not.
#[derive(Default)]
struct SlotBits(Vec<u64>);

impl SlotBits {
    fn contains(&self, s: Slot) -> bool {
        self.0
            .get(s as usize / 64)
            .is_some_and(|w| w >> (s % 64) & 1 != 0)
    }

    /// Adds `s`; whether it was not there.
    fn insert(&mut self, s: Slot) -> bool {
        let i = s as usize / 64;
        if i >= self.0.len() {
            self.0.resize(i + 1, 0);
        }
        let bit = 1u64 << (s % 64);
        let absent = self.0[i] & bit == 0;
        self.0[i] |= bit;
        absent
    }

    fn remove(&mut self, s: Slot) {
        if let Some(w) = self.0.get_mut(s as usize / 64) {
            *w &= !(1u64 << (s % 64));
        }
    }
}

/// The articles that entered and left one word's postings in an epoch.
#[derive(Default)]
struct Moved {
    entering: Vec<Slot>,
    leaving: Vec<Slot>,
}

/// The surviving pairs of `seq` (a stretch of one word's postings: survivors, entering and
/// leaving articles, in time order) whose distance was at most `band` before the epoch and
/// not after, or the other way round. Before counts survivors and leaving articles, after
/// survivors and entering ones.
fn flips_in(seq: &[(Slot, u8)], band: usize, flips: &mut Vec<(Slot, Slot)>) {
    // Moved articles before the first survivor or after the last are between no pair.
    let (Some(first), Some(last)) = (
        seq.iter().position(|x| x.1 == SURVIVOR),
        seq.iter().rposition(|x| x.1 == SURVIVOR),
    ) else {
        return;
    };
    let seq = &seq[first..=last];
    if seq.iter().all(|x| x.1 == SURVIVOR) {
        return;
    }
    // Places before and after, of every element.
    let (mut before, mut after) = (Vec::with_capacity(seq.len()), Vec::with_capacity(seq.len()));
    let (mut b, mut a) = (0usize, 0usize);
    for &(_, role) in seq {
        before.push(b);
        after.push(a);
        b += usize::from(role != ENTERING);
        a += usize::from(role != LEAVING);
    }
    for x in 0..seq.len() {
        if seq[x].1 != SURVIVOR {
            continue;
        }
        for y in x + 1..seq.len() {
            if seq[y].1 != SURVIVOR {
                continue;
            }
            let (db, da) = (before[y] - before[x], after[y] - after[x]);
            if db > band && da > band {
                break;
            }
            if (db <= band) != (da <= band) {
                let (p, q) = (seq[x].0, seq[y].0);
                flips.push((p.min(q), p.max(q)));
            }
        }
    }
}

/// One epoch's bookkeeping of which articles changed how.
#[derive(Default)]
struct Changes {
    entering: Vec<Slot>,
    leaving: Vec<Slot>,
    /// Edge changes `(a, b, added)`, each edge once, `a < b`.
    edges: Vec<(Slot, Slot, bool)>,
    /// Edges added between two surviving articles (a token fell under the cap); the same by
    /// end, both ways round and sorted (filled once all are found); and their ends.
    added_edges: Set<(Slot, Slot)>,
    added_by_end: Vec<(Slot, Slot)>,
    added_ends: SlotBits,
    /// Whether an edge between two surviving articles was removed (a token rose over the cap).
    survivor_edges_removed: bool,
    /// Clusters (final labels, before or after) whose rows must be recomputed.
    dirty_labels: Set<Slot>,
    /// Trend names emitted before this epoch that it may have changed.
    old_names: Set<Node>,
}

impl Changes {
    /// Whether the edge between `a` and `b` (either way round) was added between two surviving
    /// articles this epoch.
    fn is_added(&self, a: Slot, b: Slot) -> bool {
        self.added_edges.contains(&(a.min(b), a.max(b)))
    }

    /// Records a new edge between two surviving articles, smaller slot first (the one order of
    /// `added_edges` and `edges`: an edge found in either order is found once), and queues it
    /// in `found`.
    fn add_survivor_edge(
        &mut self,
        a: Slot,
        b: Slot,
        dup: bool,
        found: &mut Vec<(Slot, Slot, bool)>,
    ) {
        let (a, b) = (a.min(b), a.max(b));
        found.push((a, b, dup));
        self.added_edges.insert((a, b));
        self.added_ends.insert(a);
        self.added_ends.insert(b);
    }
}

/// The order of every word's postings. With a band, `(published_at, node)`, which does not
/// depend on the slots (they depend on arrival order): a word over the cap proposes the pairs
/// at most `band` places apart in it. Without one, by slot, which is cheapest to keep (an
/// arrival takes the largest slot or a freed one, and slots compare without reading articles).
#[derive(Clone, Copy)]
struct TimeOrder<'a> {
    articles: &'a [Option<Article>],
    nodes: &'a [Node],
    by_time: bool,
}

impl<'a> TimeOrder<'a> {
    /// The postings order of an index with `config`.
    fn new(articles: &'a [Option<Article>], nodes: &'a [Node], config: TrendConfig) -> Self {
        TimeOrder {
            articles,
            nodes,
            by_time: config.similarity.band > 0,
        }
    }

    fn key(&self, s: Slot) -> (TimestampMs, Node) {
        let a = self.articles[s as usize]
            .as_ref()
            .expect("a posting names an article present");
        (a.published_at, self.nodes[s as usize])
    }

    /// The place of `s` in `list`, or where it would go (most arrive last: checked first).
    fn find(&self, list: &[Slot], s: Slot) -> Result<usize, usize> {
        if !self.by_time {
            return list.binary_search(&s);
        }
        let k = self.key(s);
        match list.last() {
            None => Err(0),
            Some(&m) if self.key(m) < k => Err(list.len()),
            _ => list.binary_search_by_key(&k, |&m| self.key(m)),
        }
    }

    fn insert(&self, list: &mut Vec<Slot>, s: Slot) {
        if let Err(i) = self.find(list, s) {
            list.insert(i, s);
        }
    }

    fn remove(&self, list: &mut Vec<Slot>, s: Slot) {
        if let Ok(i) = self.find(list, s) {
            list.remove(i);
        }
    }

    /// The articles at most `band` places from `s` in `list` (which holds it), `s` excluded.
    fn band<'l>(&self, list: &'l [Slot], s: Slot, band: usize) -> impl Iterator<Item = Slot> + 'l {
        let i = self
            .find(list, s)
            .expect("an article is in its words' postings");
        let (lo, hi) = (i.saturating_sub(band), (i + band + 1).min(list.len()));
        list[lo..hi].iter().copied().filter(move |&m| m != s)
    }
}

/// Keeps the near-duplicates of `s` for which `keep` holds (a new list only if one goes, no
/// entry once none is left).
fn retain_dups(dups: &mut Map<Slot, Box<[Slot]>>, s: Slot, keep: impl Fn(Slot) -> bool) {
    let Some(list) = dups.get_mut(&s) else {
        return;
    };
    if !list.iter().all(|x| keep(*x)) {
        *list = list.iter().copied().filter(|x| keep(*x)).collect();
        if list.is_empty() {
            dups.remove(&s);
        }
    }
}

impl TrendIndex {
    pub fn new(config: TrendConfig) -> TrendIndex {
        let rounds = config.cluster.rounds.max(1) as usize;
        TrendIndex {
            config,
            rounds,
            window_minutes: (config.window_ms / MINUTE_MS).max(1),
            articles: Vec::new(),
            free: Vec::new(),
            freed_now: Vec::new(),
            by_node: SlotByNode::default(),
            by_minute: BTreeMap::new(),
            tokens: Tokens::default(),
            labels: vec![Vec::new(); rounds],
            slack: vec![Vec::new(); rounds],
            clusters: DenseMap::default(),
            emitted_trends: DenseMap::default(),
            watermarks: BTreeMap::new(),
            watermark: None,
            nodes: Vec::new(),
            toks: Packed::default(),
            texts: Packed::default(),
            sources: Sources::default(),
            adj: AdjacencyLists::default(),
            dups: Map::default(),
            role: Vec::new(),
            stamp: Vec::new(),
            stamp_now: 0,
            shared: Vec::new(),
            touch_pos: Vec::new(),
            recount_marks: SlotBits::default(),
            scratch: Vec::new(),
            scratch_add: Vec::new(),
            summary_scratch: SummaryScratch::default(),
        }
    }

    /// Empties slot `s` (its article was removed); it is reused after this epoch.
    fn free_slot(&mut self, s: Slot) {
        if let Some(a) = self.articles[s as usize].take() {
            self.sources.release(a.source);
        }
        self.toks.clear(s);
        self.texts.clear(s);
        self.freed_now.push(s);
    }

    fn art(&self, s: Slot) -> &Article {
        self.articles[s as usize]
            .as_ref()
            .expect("a slot in use holds an article")
    }

    fn art_mut(&mut self, s: Slot) -> &mut Article {
        self.articles[s as usize]
            .as_mut()
            .expect("a slot in use holds an article")
    }

    /// Room for one more slot in every per-slot vector (see [`reserve_gently`]).
    fn reserve_slots(&mut self) {
        reserve_gently(&mut self.articles, 1);
        for l in self.labels.iter_mut() {
            reserve_gently(l, 1);
        }
        for l in self.slack.iter_mut() {
            reserve_gently(l, 1);
        }
        reserve_gently(&mut self.nodes, 1);
        reserve_gently(&mut self.role, 1);
        reserve_gently(&mut self.stamp, 1);
        reserve_gently(&mut self.shared, 1);
        reserve_gently(&mut self.touch_pos, 1);
    }

    /// The document of the article in slot `s`.
    fn doc(&self, s: Slot) -> DocRef<'_> {
        let a = self.art(s);
        DocRef::from_parts(
            self.sources.name(a.source),
            self.texts.get(s),
            a.id_len,
            a.published_at,
        )
    }

    fn label(&self, s: Slot, round: usize) -> Slot {
        if round == 0 {
            s
        } else {
            self.labels[round - 1][s as usize]
        }
    }

    fn live_at(&self, minute: i64) -> bool {
        self.watermark
            .is_some_and(|wm| minute > wm - self.window_minutes)
    }

    /// Applies one epoch: article changes `(node, doc, diff)` (the replace rule's output) and
    /// watermark changes (minutes); returns the row changes of `trends` and `trend_articles`.
    pub fn apply(
        &mut self,
        docs: Vec<(Node, Doc, isize)>,
        watermarks: Vec<(i64, isize)>,
    ) -> Vec<(Row, isize)> {
        self.free.append(&mut self.freed_now);
        let old_wm = self.watermark;
        for (m, d) in watermarks {
            let n = self.watermarks.entry(m).or_insert(0);
            *n += d;
            if *n == 0 {
                self.watermarks.remove(&m);
            }
        }
        self.watermark = self
            .watermarks
            .iter()
            .rev()
            .find(|(_, n)| **n > 0)
            .map(|(m, _)| *m);
        let mut ch = Changes::default();
        self.apply_docs(docs, &mut ch);
        self.apply_watermark(old_wm, &mut ch);
        self.update_index(&mut ch);
        self.propagate(&mut ch);
        self.update_stories(&mut ch);
        self.emit(&mut ch)
    }

    fn apply_docs(&mut self, mut docs: Vec<(Node, Doc, isize)>, ch: &mut Changes) {
        docs.sort_by(|a, b| (a.0, &a.1).cmp(&(b.0, &b.1)));
        let mut net: Vec<(Node, Doc, isize)> = Vec::with_capacity(docs.len());
        for (n, d, r) in docs {
            match net.last_mut() {
                Some(last) if last.0 == n && last.1 == d => last.2 += r,
                _ => net.push((n, d, r)),
            }
        }
        net.retain(|x| x.2 != 0);
        // Removals first, so that a replaced article frees its node before the new one arrives.
        for (node, doc, _) in net.iter().filter(|x| x.2 < 0) {
            let Some(s) = self.by_node.get(&self.nodes, *node) else {
                continue;
            };
            if self.doc(s) != doc.as_ref() {
                continue;
            }
            self.by_node.remove(&self.nodes, *node);
            let minute = minute_of(doc.published_at);
            if let Some(list) = self.by_minute.get_mut(&minute) {
                if let Some(i) = list.iter().position(|x| *x == s) {
                    list.swap_remove(i);
                }
                if list.is_empty() {
                    self.by_minute.remove(&minute);
                }
            }
            if self.art(s).live {
                ch.leaving.push(s);
            } else {
                self.free_slot(s);
            }
        }
        // New articles take slots in publication order: a story's articles, published close
        // together, then sit close together in every per-slot vector, and a vote reads its
        // neighbours' labels from few cache lines (in node order, a window loaded in one epoch
        // would be scattered over all of them).
        let mut arriving: Vec<(Node, Doc)> = net
            .into_iter()
            .filter(|x| x.2 > 0)
            .map(|(node, doc, _)| (node, doc))
            .collect();
        arriving.sort_by_key(|(node, doc)| (doc.published_at, *node));
        for (node, doc) in arriving {
            let mut ids: Vec<u32> = super::text::features(doc.title())
                .iter()
                .map(|w| self.tokens.intern(w))
                .collect();
            ids.sort_unstable();
            ids.dedup();
            let minute = minute_of(doc.published_at);
            let live = self.live_at(minute);
            let article = Article {
                source: self.sources.acquire(doc.source()),
                id_len: doc.as_ref().id_len(),
                published_at: doc.published_at,
                live: false,
                story: node,
                row: (0, 0),
                has_row: false,
                pos: 0,
            };
            let s = match self.free.pop() {
                Some(s) => {
                    self.articles[s as usize] = Some(article);
                    s
                }
                None => {
                    self.reserve_slots();
                    self.articles.push(Some(article));
                    self.labels.iter_mut().for_each(|l| l.push(0));
                    self.slack.iter_mut().for_each(|l| l.push(0));
                    self.nodes.push(node);
                    self.role.push(SURVIVOR);
                    self.stamp.push(0);
                    self.shared.push(0);
                    self.touch_pos.push(UNTOUCHED);
                    (self.articles.len() - 1) as Slot
                }
            };
            self.nodes[s as usize] = node;
            self.toks.set(s, &ids);
            self.texts.set(s, doc.as_ref().rest());
            self.by_node.insert(&self.nodes, node, s);
            self.by_minute.entry(minute).or_default().push(s);
            if live {
                ch.entering.push(s);
            }
        }
    }

    /// Articles that enter or leave the window, or change recency, with the watermark.
    fn apply_watermark(&mut self, old: Option<i64>, ch: &mut Changes) {
        let new = self.watermark;
        if old == new {
            return;
        }
        let w = self.window_minutes;
        // Minutes whose liveness flips: between the two window starts.
        let start = |wm: Option<i64>| wm.map(|m| m - w + 1).unwrap_or(i64::MAX);
        let (a, b) = (start(old), start(new));
        let range = a.min(b)..a.max(b);
        let entering: Set<Slot> = ch.entering.iter().copied().collect();
        let mut flips = Vec::new();
        for (_, slots) in self.by_minute.range(range) {
            flips.extend(slots.iter().copied());
        }
        for s in flips {
            if entering.contains(&s) {
                continue;
            }
            let minute = minute_of(self.art(s).published_at);
            let now_live = self.live_at(minute);
            let was_live = self.art(s).live;
            if now_live && !was_live {
                ch.entering.push(s);
            } else if !now_live && was_live {
                ch.leaving.push(s);
            }
        }
        // Recency: trends with articles whose hour/day class changed.
        let mut touched = Vec::new();
        for edge_minutes in [60i64, 1440] {
            let class_start =
                |wm: Option<i64>| wm.map(|m| m - edge_minutes + 1).unwrap_or(i64::MAX);
            let (a, b) = (class_start(old), class_start(new));
            for (_, slots) in self.by_minute.range(a.min(b)..a.max(b)) {
                touched.extend(slots.iter().copied());
            }
        }
        for s in touched {
            if self.art(s).live {
                let label = self.label(s, self.rounds);
                ch.dirty_labels.insert(label);
            }
        }
    }

    /// Postings, document frequencies and edges for the articles entering and leaving.
    fn update_index(&mut self, ch: &mut Changes) {
        let cap = self.config.similarity.index_cap;
        let band = self.config.similarity.band;
        let mut df_before: Map<u32, u64> = Map::default();
        for &s in ch.leaving.iter().chain(&ch.entering) {
            for &t in self.toks.get(s).iter() {
                df_before.entry(t).or_insert_with(|| self.tokens.df(t));
            }
        }
        for &s in &ch.leaving {
            self.role[s as usize] = LEAVING;
        }
        for &s in &ch.entering {
            self.role[s as usize] = ENTERING;
        }
        // Leaving: out of the postings and of their neighbours' lists. Each edge to a leaving
        // article is recorded once; each surviving neighbour's list is rewritten once.
        let mut bereaved: Vec<Slot> = Vec::new();
        for i in 0..ch.leaving.len() {
            let s = ch.leaving[i];
            let a = self.art_mut(s);
            a.live = false;
            self.dups.remove(&s);
            let order = TimeOrder::new(&self.articles, &self.nodes, self.config);
            for &t in self.toks.get(s) {
                order.remove(&mut self.tokens.postings[t as usize], s);
            }
            let mut adj = std::mem::take(&mut self.scratch);
            self.adj.get(s).decode_into(&mut adj);
            self.adj.clear(s);
            for &m in &adj {
                if self.role[m as usize] != LEAVING {
                    bereaved.push(m);
                    ch.edges.push((s.min(m), s.max(m), false));
                } else if s < m {
                    ch.edges.push((s, m, false));
                }
            }
            self.scratch = adj;
        }
        bereaved.sort_unstable();
        bereaved.dedup();
        for m in bereaved {
            let role = &self.role;
            self.adj.retain(m, |x| role[x as usize] != LEAVING);
            retain_dups(&mut self.dups, m, |x| role[x as usize] != LEAVING);
        }
        for i in 0..ch.entering.len() {
            let s = ch.entering[i];
            self.art_mut(s).live = true;
            let order = TimeOrder::new(&self.articles, &self.nodes, self.config);
            for &t in self.toks.get(s) {
                order.insert(&mut self.tokens.postings[t as usize], s);
            }
        }
        // Entering articles: every candidate pair, scored once (from its smaller entering end).
        let mut found: Vec<(Slot, Slot, bool)> = Vec::new();
        for i in 0..ch.entering.len() {
            self.score_entering(ch.entering[i], &mut found);
        }
        // Tokens that crossed the cap change which surviving pairs are candidates.
        let mut crossed_up = Vec::new();
        let mut crossed_down = Vec::new();
        // Words over the cap before and after: their bands may have moved.
        let mut banded: Map<u32, Moved> = Map::default();
        for (t, before) in df_before {
            let after = self.tokens.df(t);
            match (before <= cap, after <= cap) {
                (true, false) => crossed_up.push(t),
                (false, true) => crossed_down.push(t),
                (false, false) if band > 0 => {
                    banded.insert(t, Moved::default());
                }
                _ => {}
            }
        }
        crossed_up.sort_unstable();
        crossed_down.sort_unstable();
        // A word over the cap now: the surviving pairs that shared it stay edges only if they
        // still share a word under the cap or the band of one over it. Each holder filters its
        // own list once. Without a band both ends of a lost edge hold the word; with one, a
        // holder may lose an edge to an article that does not (the band of another word moved
        // too): that end's list is filtered at the end (`one_sided`), and the lost pairs are
        // kept for the bands' check (`removing`, sorted).
        let mut removing: Vec<(Slot, Slot)> = Vec::new();
        let mut one_sided: Vec<(Slot, Slot)> = Vec::new();
        let mut holders: Vec<Slot> = Vec::new();
        for t in crossed_up {
            holders.extend(
                self.tokens.postings[t as usize]
                    .iter()
                    .copied()
                    .filter(|s| self.role[*s as usize] == SURVIVOR),
            );
        }
        holders.sort_unstable();
        holders.dedup();
        for &a in &holders {
            // The articles that share a word under the cap with `a`, or are in the band of a
            // word over it, stamped from the postings rather than by reading each neighbour's
            // words.
            self.next_stamp();
            let now = self.stamp_now;
            let (toks, postings, stamp) = (&self.toks, &self.tokens.postings, &mut self.stamp);
            let order = TimeOrder::new(&self.articles, &self.nodes, self.config);
            for &t in toks.get(a).iter() {
                let holders_of_t = &postings[t as usize];
                if holders_of_t.len() as u64 <= cap {
                    for &m in holders_of_t {
                        stamp[m as usize] = now;
                    }
                } else if band > 0 {
                    for m in order.band(holders_of_t, a, band) {
                        stamp[m as usize] = now;
                    }
                }
            }
            let stamp = &self.stamp;
            let lost = self.adj.retain(a, |b| {
                let kept = stamp[b as usize] == now;
                if !kept {
                    let holder = holders.binary_search(&b).is_ok();
                    if a < b || !holder {
                        ch.edges.push((a.min(b), a.max(b), false));
                        ch.survivor_edges_removed = true;
                    }
                    if !holder {
                        one_sided.push((b, a));
                    }
                    if band > 0 {
                        removing.push((a.min(b), a.max(b)));
                    }
                }
                kept
            });
            if lost {
                retain_dups(&mut self.dups, a, |b| stamp[b as usize] == now);
            }
        }
        let sim = self.config.similarity;
        for t in crossed_down {
            let postings = self.tokens.postings[t as usize].clone();
            for (i, &a) in postings.iter().enumerate() {
                if self.role[a as usize] != SURVIVOR {
                    continue;
                }
                // `a`'s neighbours, stamped.
                self.next_stamp();
                let now = self.stamp_now;
                for m in self.adj.get(a).iter() {
                    self.stamp[m as usize] = now;
                }
                // `b` may be the smaller slot (postings in time order put the larger first as
                // often as not): `is_added` and `add_survivor_edge` take either order.
                for &b in &postings[i + 1..] {
                    if self.role[b as usize] != SURVIVOR
                        || self.stamp[b as usize] == now
                        || ch.is_added(a, b)
                    {
                        continue;
                    }
                    let (ta, tb) = (self.toks.get(a), self.toks.get(b));
                    let j = jaccard(ta, tb);
                    let dup = is_near_duplicate(ta, tb, j, sim);
                    if j >= sim.min_jaccard || dup {
                        ch.add_survivor_edge(a, b, dup, &mut found);
                    }
                }
            }
        }
        removing.sort_unstable();
        removing.dedup();
        self.update_bands(banded, ch, &mut found, &removing, &mut one_sided);
        self.drop_neighbours(one_sided);
        ch.added_by_end = ch
            .added_edges
            .iter()
            .flat_map(|&(a, b)| [(a, b), (b, a)])
            .collect();
        ch.added_by_end.sort_unstable();
        // New edges: each list is rewritten once with all of its new neighbours.
        ch.edges.extend(found.iter().map(|&(a, b, _)| (a, b, true)));
        self.add_neighbours(&found);
    }

    /// Edges between surviving articles that a word over the cap proposes or stops proposing
    /// because articles entered or left its postings between them (`banded`: the words over
    /// the cap before and after the epoch). Appending the newest article or dropping the
    /// oldest moves no band between survivors: only articles placed among survivors cost work.
    fn update_bands(
        &mut self,
        mut banded: Map<u32, Moved>,
        ch: &mut Changes,
        found: &mut Vec<(Slot, Slot, bool)>,
        removing: &[(Slot, Slot)],
        drop: &mut Vec<(Slot, Slot)>,
    ) {
        if banded.is_empty() {
            return;
        }
        for &s in &ch.entering {
            for t in self.toks.get(s) {
                if let Some(m) = banded.get_mut(t) {
                    m.entering.push(s);
                }
            }
        }
        for &s in &ch.leaving {
            for t in self.toks.get(s) {
                if let Some(m) = banded.get_mut(t) {
                    m.leaving.push(s);
                }
            }
        }
        let mut flips: Vec<(Slot, Slot)> = Vec::new();
        let mut seq: Vec<(Slot, u8)> = Vec::new();
        for (t, moved) in banded {
            self.band_flips(t, moved, &mut seq, &mut flips);
        }
        flips.sort_unstable();
        flips.dedup();
        let sim = self.config.similarity;
        for (a, b) in flips {
            let is_edge = ch.is_added(a, b)
                || (removing.binary_search(&(a, b)).is_err()
                    && self.adj.get(a).iter().any(|m| m == b));
            let (ta, tb) = (self.toks.get(a), self.toks.get(b));
            let j = jaccard(ta, tb);
            let dup = is_near_duplicate(ta, tb, j, sim);
            let edge = (j >= sim.min_jaccard || dup) && self.proposed(a, b);
            if edge && !is_edge {
                ch.add_survivor_edge(a, b, dup, found);
            } else if is_edge && !edge {
                ch.edges.push((a, b, false));
                ch.survivor_edges_removed = true;
                drop.push((a, b));
                drop.push((b, a));
            }
        }
    }

    /// Drops `other` from the lists of `end`, for each `(end, other)` of `by_end` (the edge
    /// changes are recorded by the caller), each list rewritten once.
    fn drop_neighbours(&mut self, mut by_end: Vec<(Slot, Slot)>) {
        by_end.sort_unstable();
        for group in by_end.chunk_by(|p, q| p.0 == q.0) {
            let x = group[0].0;
            let keep = |y: Slot| group.binary_search(&(x, y)).is_err();
            if self.adj.retain(x, keep) {
                retain_dups(&mut self.dups, x, keep);
            }
        }
    }

    /// The surviving pairs whose distance in word `t`'s postings crossed `band` this epoch
    /// (`moved`: its entering and leaving articles), each `(smaller, larger)`. Only pairs with
    /// a moved article between them change distance, so only the postings within reach of one
    /// are read: a stretch around each, with the leaving articles put back in their places.
    fn band_flips(
        &self,
        t: u32,
        mut moved: Moved,
        seq: &mut Vec<(Slot, u8)>,
        flips: &mut Vec<(Slot, Slot)>,
    ) {
        let band = self.config.similarity.band;
        let order = TimeOrder::new(&self.articles, &self.nodes, self.config);
        let list = &self.tokens.postings[t as usize];
        moved.leaving.sort_unstable_by_key(|&l| order.key(l));
        // Where each leaving article stood (its place among the postings left), in order. A
        // new version of it that kept its `published_at` has its key and stands in its place.
        let leaving: Vec<(usize, Slot)> = moved
            .leaving
            .iter()
            .map(|&l| (order.find(list, l).unwrap_or_else(|i| i), l))
            .collect();
        let mut at: Vec<usize> = moved
            .entering
            .iter()
            .map(|&e| {
                order
                    .find(list, e)
                    .expect("an entering article is in the postings")
            })
            .chain(leaving.iter().map(|x| x.0))
            .collect();
        at.sort_unstable();
        // A flipped pair is at most `band` apart, before or after, with a moved article
        // between: both ends are within `reach` places of that article.
        let reach = band + 1 + at.len();
        let mut next_leaving = leaving.iter().peekable();
        let mut i = 0;
        while i < at.len() {
            let lo = at[i].saturating_sub(reach);
            let mut hi = (at[i] + reach + 1).min(list.len());
            i += 1;
            while i < at.len() && at[i].saturating_sub(reach) <= hi {
                hi = (at[i] + reach + 1).min(list.len());
                i += 1;
            }
            seq.clear();
            for (k, &m) in list.iter().enumerate().take(hi).skip(lo) {
                while let Some(&(_, l)) = next_leaving.next_if(|x| x.0 == k) {
                    seq.push((l, LEAVING));
                }
                seq.push((m, self.role[m as usize]));
            }
            while let Some(&(_, l)) = next_leaving.next_if(|x| x.0 == hi) {
                seq.push((l, LEAVING));
            }
            flips_in(seq, band, flips);
        }
    }

    /// Whether a word the two articles share proposes the pair (under the cap, or over it
    /// with the two at most `band` places apart).
    fn proposed(&self, a: Slot, b: Slot) -> bool {
        let sim = self.config.similarity;
        let order = TimeOrder::new(&self.articles, &self.nodes, self.config);
        let (ta, tb) = (self.toks.get(a), self.toks.get(b));
        let (mut i, mut j) = (0, 0);
        while i < ta.len() && j < tb.len() {
            match ta[i].cmp(&tb[j]) {
                std::cmp::Ordering::Less => i += 1,
                std::cmp::Ordering::Greater => j += 1,
                std::cmp::Ordering::Equal => {
                    let list = &self.tokens.postings[ta[i] as usize];
                    if list.len() as u64 <= sim.index_cap {
                        return true;
                    }
                    if sim.band > 0 {
                        let place = |s| {
                            order
                                .find(list, s)
                                .expect("a live article is in its postings")
                        };
                        if place(a).abs_diff(place(b)) <= sim.band {
                            return true;
                        }
                    }
                    i += 1;
                    j += 1;
                }
            }
        }
        false
    }

    /// Adds the edges of `found` to the lists of both ends, each list once with all of its new
    /// neighbours. The ends are grouped by slot: by a counting sort over all slots when the
    /// edges are many for the slots (a load), else by sorting them (work in proportion to the
    /// edges, not to the window).
    fn add_neighbours(&mut self, found: &[(Slot, Slot, bool)]) {
        if found.is_empty() {
            return;
        }
        let n = self.articles.len();
        assert!(n < DUP as usize, "trend index slots must stay below 2^31");
        let flag = |dup: bool| if dup { DUP } else { 0 };
        let mut add = std::mem::take(&mut self.scratch_add);
        if found.len() * 16 >= n {
            let mut start = vec![0u32; n + 1];
            for &(a, b, _) in found {
                start[a as usize + 1] += 1;
                start[b as usize + 1] += 1;
            }
            for i in 0..n {
                start[i + 1] += start[i];
            }
            let mut next = start.clone();
            let mut ends = vec![0u32; found.len() * 2];
            for &(a, b, dup) in found {
                for (x, y) in [(a, b), (b, a)] {
                    ends[next[x as usize] as usize] = y | flag(dup);
                    next[x as usize] += 1;
                }
            }
            drop(next);
            for x in 0..n {
                let bucket = &mut ends[start[x] as usize..start[x + 1] as usize];
                if !bucket.is_empty() {
                    self.merge_neighbours(x as Slot, bucket, &mut add);
                }
            }
        } else {
            let mut ends: Vec<(Slot, u32)> = Vec::with_capacity(found.len() * 2);
            for &(a, b, dup) in found {
                ends.push((a, b | flag(dup)));
                ends.push((b, a | flag(dup)));
            }
            ends.sort_unstable_by_key(|e| e.0);
            let mut bucket = Vec::new();
            for group in ends.chunk_by(|p, q| p.0 == q.0) {
                bucket.clear();
                bucket.extend(group.iter().map(|e| e.1));
                self.merge_neighbours(group[0].0, &mut bucket, &mut add);
            }
        }
        self.scratch_add = add;
    }

    /// Merges `bucket` (new neighbours of `x`, marked with `DUP` when near-duplicates) into
    /// `x`'s lists. `add` is working space.
    fn merge_neighbours(&mut self, x: Slot, bucket: &mut [u32], add: &mut Vec<Slot>) {
        bucket.sort_unstable_by_key(|y| *y & !DUP);
        add.clear();
        add.extend(bucket.iter().map(|y| *y & !DUP));
        self.adj.insert_sorted(x, add);
        if bucket.iter().any(|y| *y & DUP != 0) {
            let mut dup = self.dups.remove(&x).unwrap_or_default().into_vec();
            dup.extend(bucket.iter().filter(|y| **y & DUP != 0).map(|y| *y & !DUP));
            dup.sort_unstable();
            dup.dedup();
            self.dups.insert(x, dup.into_boxed_slice());
        }
    }

    /// The edges of an entering article to every live candidate (an entering candidate only
    /// when it is the larger slot, so that each pair is scored once).
    fn score_entering(&mut self, s: Slot, found: &mut Vec<(Slot, Slot, bool)>) {
        let cap = self.config.similarity.index_cap;
        let sim = self.config.similarity;
        self.next_stamp();
        let now = self.stamp_now;
        let a = self.toks.get(s);
        let (stamp, shared) = (&mut self.stamp, &mut self.shared);
        stamp[s as usize] = now;
        let order = TimeOrder::new(&self.articles, &self.nodes, self.config);
        let mut candidates: Vec<Slot> = Vec::new();
        // Postings hold every live article with the word, over the cap or not: the shared
        // count of a candidate is exact over the indexed words, and the words over the cap
        // (few, common ones) are looked up in the candidate's list. A word over the cap adds
        // its band's articles as candidates without counting.
        let mut unindexed: SmallVec<[u32; 8]> = SmallVec::new();
        for &t in a.iter() {
            let postings = &self.tokens.postings[t as usize];
            if postings.len() as u64 > cap {
                unindexed.push(t);
                if sim.band > 0 {
                    for m in order.band(postings, s, sim.band) {
                        if stamp[m as usize] != now {
                            stamp[m as usize] = now;
                            shared[m as usize] = 0;
                            if self.role[m as usize] != ENTERING || m > s {
                                candidates.push(m);
                            }
                        }
                    }
                }
                continue;
            }
            for &m in postings {
                if stamp[m as usize] != now {
                    stamp[m as usize] = now;
                    shared[m as usize] = 0;
                    if self.role[m as usize] != ENTERING || m > s {
                        candidates.push(m);
                    }
                }
                shared[m as usize] += 1;
            }
        }
        let la = a.len();
        for m in candidates {
            // Shared words are at least those counted in the index and at most that plus the
            // words too common to be indexed: skip pairs that cannot reach either threshold
            // (nor be equal sets: the shared words cannot reach the length) from the counts alone.
            let b = self.toks.get(m);
            let lb = b.len();
            let least = shared[m as usize] as usize;
            let most = least + unindexed.len();
            let best = if la + lb > most {
                (most as i64 * 1_000_000) / (la + lb - most) as i64
            } else {
                1_000_000
            };
            let never_duplicate = best < sim.near_duplicate && (la != lb || most < la);
            if best < sim.min_jaccard && never_duplicate {
                continue;
            }
            // An edge for certain, and not a near-duplicate whatever the words over the cap
            // hold: the candidate's own list need not be read.
            if never_duplicate && jaccard_of_counts(la, lb, least) >= sim.min_jaccard {
                found.push((s.min(m), s.max(m), false));
                continue;
            }
            let common = unindexed
                .iter()
                .filter(|t| b.binary_search(t).is_ok())
                .count();
            let both = least + common;
            let j = jaccard_of_counts(la, lb, both);
            let dup = near_duplicate_of_counts(la, lb, both, j, sim);
            if j >= sim.min_jaccard || dup {
                found.push((s.min(m), s.max(m), dup));
            }
        }
    }

    /// The exact vote of `n` in `round` (≥ 2) from the labels of `round − 1`: the winner (most
    /// votes, ties to the smallest node and slot) and its margin over the next label.
    fn vote(&self, n: Slot, round: usize, tally: &mut Tally) -> (Slot, i8) {
        if tally.count.len() < self.nodes.len() {
            tally.count.resize(self.nodes.len(), 0);
        }
        tally.seen.clear();
        let own = self.label(n, round - 1);
        let labels =
            std::iter::once(own).chain(self.adj.get(n).iter().map(|m| self.label(m, round - 1)));
        for l in labels {
            let c = &mut tally.count[l as usize];
            if *c == 0 {
                tally.seen.push(l);
            }
            *c += 1;
        }
        let (mut best, mut best_n, mut second_n) = (own, 0u32, 0u32);
        for &l in &tally.seen {
            let c = std::mem::take(&mut tally.count[l as usize]);
            // Ties go to the smallest node, then the smallest slot (a replaced article's old and
            // new slots share a node within its epoch).
            let first = (self.nodes[l as usize], l) < (self.nodes[best as usize], best);
            if c > best_n || (c == best_n && first) {
                second_n = best_n;
                best = l;
                best_n = c;
            } else if c > second_n {
                second_n = c;
            }
        }
        let margin = (best_n - second_n).min(i8::MAX as u32) as i8;
        (best, margin)
    }

    /// Round 1: the smallest label of the closed neighbourhood.
    fn vote_first(&self, n: Slot) -> Slot {
        let mut best = n;
        for m in self.adj.get(n).iter() {
            if self.nodes[m as usize] < self.nodes[best as usize] {
                best = m;
            }
        }
        best
    }

    fn set_label(&mut self, s: Slot, round: usize, label: Slot, slack: i8) {
        self.labels[round - 1][s as usize] = label;
        self.slack[round - 1][s as usize] = slack;
    }

    /// One changed vote for surviving `n` in round 1: `label` gained or lost one vote.
    fn delta_first(&mut self, n: Slot, label: Slot, add: bool, touched: &mut Vec<Touch>) {
        let i = n as usize;
        let t = if self.touch_pos[i] != UNTOUCHED {
            self.touch_pos[i] as usize
        } else {
            self.touch_pos[i] = touched.len() as u32;
            touched.push(Touch {
                n,
                before: self.labels[0][i],
                label: self.labels[0][i],
                recount: false,
            });
            touched.len() - 1
        };
        let nodes = &self.nodes;
        let t = &mut touched[t];
        // Every label has one vote: the smallest wins.
        if add {
            if nodes[label as usize] < nodes[t.label as usize] {
                t.label = label;
            }
        } else if label == t.label {
            t.recount = true;
        }
    }

    /// One vote of surviving `n` in `round` moves from `lost` to `gained` (either may be none).
    /// Round 1 goes through [`TrendIndex::delta_first`]. Rounds ≥ 2 update the lower bound of
    /// the winner's margin in place: the winner losing a vote, or another label gaining one,
    /// lowers it by one; the winner gaining one raises it by one. A bound that reaches
    /// `i8::MIN` stays there (the node is re-counted whatever follows). A node whose bound is at
    /// most zero is listed in `recount`, once.
    fn move_vote(
        &mut self,
        n: Slot,
        round: usize,
        (lost, gained): (Option<Slot>, Option<Slot>),
        touched: &mut Vec<Touch>,
        recount: &mut Vec<Slot>,
    ) {
        let i = n as usize;
        if self.role[i] != SURVIVOR {
            return;
        }
        if round == 1 {
            if let Some(l) = lost {
                self.delta_first(n, l, false, touched);
            }
            if let Some(l) = gained {
                self.delta_first(n, l, true, touched);
            }
            return;
        }
        let winner = self.labels[round - 1][i];
        let mut change = 0i32;
        if lost == Some(winner) {
            change -= 1;
        }
        match gained {
            Some(g) if g == winner => change += 1,
            Some(_) => change -= 1,
            None => {}
        }
        if change == 0 {
            return;
        }
        let slack = &mut self.slack[round - 1][i];
        if *slack != i8::MIN {
            *slack =
                (i32::from(*slack) + change).clamp(i32::from(i8::MIN), i32::from(i8::MAX)) as i8;
        }
        if *slack <= 0 && self.recount_marks.insert(n) {
            recount.push(n);
        }
    }

    fn next_stamp(&mut self) {
        self.stamp_now = self.stamp_now.wrapping_add(1);
        if self.stamp_now == 0 {
            self.stamp.iter_mut().for_each(|x| *x = 0);
            self.stamp_now = 1;
        }
    }

    /// Empties the touched list of a round, marking its slots untouched again.
    fn untouch(&mut self, touched: &mut Vec<Touch>) {
        for t in touched.drain(..) {
            self.touch_pos[t.n as usize] = UNTOUCHED;
        }
    }

    /// Label propagation, round by round, from the epoch's edge changes.
    fn propagate(&mut self, ch: &mut Changes) {
        // Every changed vote is counted once: an edge listed twice (once either way round) would
        // move a vote twice, and a margin bound raised twice can miss a change of winner.
        debug_assert!(
            {
                let mut edges: Vec<(Slot, Slot)> = ch.edges.iter().map(|e| (e.0, e.1)).collect();
                edges.sort_unstable();
                let (n, all_ordered) = (edges.len(), edges.iter().all(|e| e.0 < e.1));
                edges.dedup();
                all_ordered && edges.len() == n
            },
            "the epoch's edge changes list each edge once, smaller slot first"
        );
        for &s in &ch.leaving {
            let l = self.label(s, self.rounds);
            ch.dirty_labels.insert(l);
        }
        // Label changes of the previous round: (slot, old label).
        let mut prev: Vec<(Slot, Slot)> = Vec::new();
        let mut tally = Tally::default();
        let mut touched: Vec<Touch> = Vec::new();
        let mut recount: Vec<Slot> = Vec::new();
        for round in 1..=self.rounds {
            let prev_old: Map<Slot, Slot> = if ch.survivor_edges_removed {
                prev.iter().copied().collect()
            } else {
                Map::default()
            };
            for e in 0..ch.edges.len() {
                let (a, b, added) = ch.edges[e];
                for (n, m) in [(a, b), (b, a)] {
                    if self.role[n as usize] != SURVIVOR {
                        continue;
                    }
                    let l = if added {
                        self.label(m, round - 1)
                    } else {
                        prev_old
                            .get(&m)
                            .copied()
                            .unwrap_or_else(|| self.label(m, round - 1))
                    };
                    let change = if added {
                        (None, Some(l))
                    } else {
                        (Some(l), None)
                    };
                    self.move_vote(n, round, change, &mut touched, &mut recount);
                }
            }
            // `prev` is sorted by slot, as are the added edges by end: one cursor finds each
            // changed slot's added edges.
            let mut by_end = &ch.added_by_end[..];
            for &(m, old) in &prev {
                let change = (Some(old), Some(self.label(m, round - 1)));
                self.move_vote(m, round, change, &mut touched, &mut recount);
                // Edges added this epoch counted `m`'s new label above: they are skipped,
                // walking `m`'s added neighbours (sorted) beside its list.
                if ch.added_ends.contains(m) {
                    by_end = &by_end[by_end.partition_point(|e| e.0 < m)..];
                }
                let mut added = by_end
                    .iter()
                    .take_while(|e| e.0 == m)
                    .map(|e| e.1)
                    .peekable();
                let mut adj = std::mem::take(&mut self.scratch);
                self.adj.get(m).decode_into(&mut adj);
                for &n in &adj {
                    while added.next_if(|&a| a < n).is_some() {}
                    if added.next_if_eq(&n).is_some() {
                        continue;
                    }
                    self.move_vote(n, round, change, &mut touched, &mut recount);
                }
                self.scratch = adj;
            }
            let mut cur = Vec::new();
            if round == 1 {
                for t in &touched {
                    let label = if t.recount {
                        self.vote_first(t.n)
                    } else {
                        t.label
                    };
                    self.set_label(t.n, round, label, 0);
                    if label != t.before {
                        cur.push((t.n, t.before));
                    }
                }
                self.untouch(&mut touched);
            } else {
                for k in 0..recount.len() {
                    // The nodes lie anywhere in a large window: where each one's neighbour
                    // list lies and its bound are prefetched `AHEAD` nodes ahead, the list
                    // itself half as far.
                    if let Some(&m) = recount.get(k + AHEAD) {
                        self.adj.prefetch_run(m);
                        prefetch(&self.slack[round - 1], m as usize);
                    }
                    if let Some(&m) = recount.get(k + AHEAD / 2) {
                        self.adj.prefetch_list(m);
                    }
                    let n = recount[k];
                    self.recount_marks.remove(n);
                    if self.slack[round - 1][n as usize] > 0 {
                        continue;
                    }
                    let before = self.labels[round - 1][n as usize];
                    let (label, slack) = self.vote(n, round, &mut tally);
                    self.set_label(n, round, label, slack);
                    if label != before {
                        cur.push((n, before));
                    }
                }
                recount.clear();
            }
            for i in 0..ch.entering.len() {
                let s = ch.entering[i];
                let (label, slack) = if round == 1 {
                    (self.vote_first(s), 0)
                } else {
                    self.vote(s, round, &mut tally)
                };
                self.set_label(s, round, label, slack);
            }
            cur.sort_unstable();
            prev = cur;
        }
        for &(s, old) in &prev {
            ch.dirty_labels.insert(old);
            ch.dirty_labels.insert(self.label(s, self.rounds));
        }
        // Cluster membership follows the final labels.
        for i in 0..ch.leaving.len() {
            let s = ch.leaving[i];
            let l = self.label(s, self.rounds);
            self.cluster_remove(s, l);
        }
        for (s, old) in prev {
            self.cluster_remove(s, old);
            let l = self.label(s, self.rounds);
            self.cluster_insert(s, l);
        }
        for i in 0..ch.entering.len() {
            let s = ch.entering[i];
            let l = self.label(s, self.rounds);
            ch.dirty_labels.insert(l);
            self.cluster_insert(s, l);
        }
        for &s in ch.entering.iter().chain(&ch.leaving) {
            self.role[s as usize] = SURVIVOR;
        }
        #[cfg(debug_assertions)]
        self.check_labels();
    }

    /// Debug builds, windows of up to 4,096 slots: every live article's label in every round is
    /// the vote of its closed neighbourhood over the labels of the round before, and its
    /// margin bound is at most the margin. The incremental updates keep both; the oracle tests
    /// compare only what the last round's clusters emit, where an error in an earlier round
    /// may not show (yet). The votes are [`TrendIndex::vote`]'s own: whether a vote follows
    /// the definition is the oracle tests' to check.
    #[cfg(debug_assertions)]
    fn check_labels(&self) {
        if self.nodes.len() > 4096 {
            return;
        }
        let mut tally = Tally::default();
        for (s, a) in self.articles.iter().enumerate() {
            if !a.as_ref().is_some_and(|a| a.live) {
                continue;
            }
            let (i, s) = (s, s as Slot);
            assert_eq!(
                self.labels[0][i],
                self.vote_first(s),
                "round 1 label of slot {s}"
            );
            for round in 2..=self.rounds {
                let (label, margin) = self.vote(s, round, &mut tally);
                let (kept, bound) = (self.labels[round - 1][i], self.slack[round - 1][i]);
                assert_eq!(kept, label, "round {round} label of slot {s}");
                assert!(
                    bound <= margin,
                    "round {round} margin bound of slot {s}: {bound} over the margin {margin}"
                );
            }
        }
    }

    fn cluster_insert(&mut self, s: Slot, label: Slot) {
        let members = self.clusters.get_or_default(label);
        let pos = members.len() as u32;
        members.push(s);
        self.art_mut(s).pos = pos;
    }

    fn cluster_remove(&mut self, s: Slot, label: Slot) {
        let pos = self.art(s).pos as usize;
        let Some(members) = self.clusters.get_mut(&label) else {
            return;
        };
        if members.get(pos) != Some(&s) {
            return;
        }
        members.swap_remove(pos);
        let moved = members.get(pos).copied();
        if members.is_empty() {
            self.clusters.remove(&label);
        }
        if let Some(m) = moved {
            self.art_mut(m).pos = pos as u32;
        }
    }

    /// Near-duplicate groups of the articles whose near-duplicate edges changed.
    fn update_stories(&mut self, ch: &mut Changes) {
        let mut seeds: Vec<Slot> = ch.entering.clone();
        for &(a, b, _) in &ch.edges {
            seeds.push(a);
            seeds.push(b);
        }
        let mut visited: Set<Slot> = Set::default();
        for seed in seeds {
            if !self.art(seed).live || visited.contains(&seed) {
                continue;
            }
            let mut component = vec![seed];
            visited.insert(seed);
            let mut i = 0;
            while i < component.len() {
                let s = component[i];
                for &m in self.dups.get(&s).map_or(&[][..], |d| &d[..]) {
                    if visited.insert(m) {
                        component.push(m);
                    }
                }
                i += 1;
            }
            let story = component
                .iter()
                .map(|s| self.nodes[*s as usize])
                .min()
                .unwrap_or_default();
            for s in component {
                if self.art(s).story != story {
                    self.art_mut(s).story = story;
                    let l = self.label(s, self.rounds);
                    ch.dirty_labels.insert(l);
                }
            }
        }
    }

    /// Rows of the clusters the epoch touched, against what was emitted before.
    fn emit(&mut self, ch: &mut Changes) -> Vec<(Row, isize)> {
        let mut out = Vec::new();
        let wm = self.watermark.unwrap_or_default();
        for &s in &ch.leaving {
            if let Some((trend, story)) = self.art_mut(s).take_emitted() {
                ch.old_names.insert(trend);
                out.push((self.article_row(s, trend, story), -1));
            }
        }
        let mut new_rows: Map<Node, Emitted> = Map::default();
        let dirty: Vec<Slot> = ch.dirty_labels.iter().copied().collect();
        let mut scratch = std::mem::take(&mut self.summary_scratch);
        for label in dirty {
            let Some(members) = self.clusters.get(&label) else {
                continue;
            };
            let members = members.clone();
            let Some((name, row)) = self.trend_summary(&members, wm, &mut scratch) else {
                continue;
            };
            for &s in &members {
                let a = self.art(s);
                let new = (name, a.story);
                if a.emitted() != Some(new) {
                    if let Some((trend, story)) = a.emitted() {
                        ch.old_names.insert(trend);
                        out.push((self.article_row(s, trend, story), -1));
                    }
                    out.push((self.article_row(s, name, new.1), 1));
                    self.art_mut(s).set_emitted(new);
                }
            }
            new_rows.insert(name, row);
        }
        self.summary_scratch = scratch;
        for name in ch.old_names.iter() {
            if !new_rows.contains_key(name) {
                if let Some(row) = self.emitted_trends.remove(name) {
                    out.push((self.materialize(*name, &row), -1));
                }
            }
        }
        for (name, row) in new_rows {
            // The new summary is kept even when it gives the same row (perhaps from another
            // representative, a copy with the same title), so that the slot it names stays
            // the representative's while the row is emitted.
            match self.emitted_trends.insert(name, row) {
                Some(old) if self.same_row(&old, &row) => {}
                old => {
                    out.push((self.materialize(name, &row), 1));
                    if let Some(old) = old {
                        out.push((self.materialize(name, &old), -1));
                    }
                }
            }
        }
        // Articles that left give their slots back after the epoch.
        for &s in &ch.leaving {
            if self
                .by_node
                .get(&self.nodes, self.nodes[s as usize])
                .is_none_or(|x| x != s)
            {
                self.free_slot(s);
            }
        }
        out
    }

    fn article_row(&self, s: Slot, trend: Node, story: Node) -> Row {
        let doc = self.doc(s);
        Row::TrendArticle(TrendArticleRow {
            source: doc.source().to_string(),
            external_id: doc.external_id().to_string(),
            trend_id: trend_id(trend),
            story_id: format!("d{story:016x}"),
            published_at: doc.published_at,
            title: doc.title().to_string(),
        })
    }

    /// The `trends` row of an emitted summary. Its representative is still in its slot: an
    /// article that leaves dirties its trend, whose row is replaced or removed in that epoch,
    /// before the slot is given back.
    fn materialize(&self, name: Node, e: &Emitted) -> Row {
        let headline = self.doc(e.rep).title();
        let keywords = e
            .keywords()
            .iter()
            .map(|t| &*self.tokens.words[*t as usize]);
        Row::Trend(e.counts().row(name, headline, keywords))
    }

    /// Whether two emitted summaries give the same row (representatives may differ in slot
    /// and agree in title: syndicated copies).
    fn same_row(&self, a: &Emitted, b: &Emitted) -> bool {
        let title = |x: &Emitted| self.doc(x.rep).title();
        a.counts() == b.counts()
            && a.keywords() == b.keywords()
            && (a.rep == b.rep || title(a) == title(b))
    }

    /// The name (the node of the earliest member) and summary of the trend of `slots` (the
    /// definition: `super::trend_summary`), computed over interned ids: word counts in an array
    /// by token, the members' stories and sources sorted, each member's document read only to
    /// break a tie for the headline. `None` for no members.
    fn trend_summary(
        &self,
        slots: &[Slot],
        wm_minute: i64,
        scratch: &mut SummaryScratch,
    ) -> Option<(Node, Emitted)> {
        if slots.is_empty() {
            return None;
        }
        let words = &self.tokens.words;
        let SummaryScratch {
            word_count,
            seen,
            stories,
            sources,
        } = scratch;
        if word_count.len() < words.len() {
            word_count.resize(words.len(), 0);
        }
        seen.clear();
        stories.clear();
        sources.clear();
        let (mut earliest, mut last) = ((TimestampMs::MAX, Node::MAX), TimestampMs::MIN);
        let (mut a1h, mut a24h) = (0u64, 0u64);
        for (i, &s) in slots.iter().enumerate() {
            // Members lie anywhere in a large window: their articles, nodes and where their
            // words lie are prefetched two steps ahead, their words one step.
            if let Some(&m) = slots.get(i + 2 * AHEAD) {
                prefetch(&self.articles, m as usize);
                prefetch(&self.nodes, m as usize);
                self.toks.prefetch_run(m);
            }
            if let Some(&m) = slots.get(i + AHEAD) {
                self.toks.prefetch_value(m);
            }
            let a = self.art(s);
            for &t in self.toks.get(s) {
                let c = &mut word_count[t as usize];
                if *c == 0 {
                    seen.push(t);
                }
                *c += 1;
            }
            stories.push(a.story);
            sources.push(a.source);
            earliest = earliest.min((a.published_at, self.nodes[s as usize]));
            last = last.max(a.published_at);
            match recency(wm_minute, minute_of(a.published_at)) {
                Recency::Hour => (a1h, a24h) = (a1h + 1, a24h + 1),
                Recency::Day => a24h += 1,
                Recency::Older => {}
            }
        }
        // Keywords: most members first, then the word itself.
        let rank = |a: &u32, b: &u32| {
            word_count[*b as usize]
                .cmp(&word_count[*a as usize])
                .then_with(|| words[*a as usize].cmp(&words[*b as usize]))
        };
        let k = MAX_KEYWORDS.min(seen.len());
        if k > 0 && k < seen.len() {
            seen.select_nth_unstable_by(k - 1, rank);
        }
        seen[..k].sort_unstable_by(rank);
        // Headline: the highest mean count of its words; ties to the earliest, then the
        // smallest key (the last of equals, as `Iterator::max_by` takes it).
        let centrality = |s: Slot| {
            let ws = self.toks.get(s);
            let total: u64 = ws.iter().map(|&t| u64::from(word_count[t as usize])).sum();
            total * 1_000_000 / (ws.len() as u64 + 1)
        };
        let mut rep = (slots[0], centrality(slots[0]));
        for &s in &slots[1..] {
            let c = centrality(s);
            let order = c.cmp(&rep.1).then_with(|| {
                let (p, q) = (self.art(s).published_at, self.art(rep.0).published_at);
                q.cmp(&p)
                    .then_with(|| self.doc(rep.0).key_cmp(&self.doc(s)))
            });
            if order.is_ge() {
                rep = (s, c);
            }
        }
        for &t in seen.iter() {
            word_count[t as usize] = 0;
        }
        fn distinct<T: Ord>(v: &mut Vec<T>) -> u64 {
            v.sort_unstable();
            v.dedup();
            v.len() as u64
        }
        let counts = TrendCounts {
            article_count: slots.len() as u64,
            story_count: distinct(stories),
            source_count: distinct(sources),
            first_published_at: earliest.0,
            last_published_at: last,
            articles_1h: a1h,
            articles_24h: a24h,
            rising_score: super::rising_score(a1h as i64, a24h as i64),
        };
        Some((earliest.1, Emitted::new(rep.0, &seen[..k], &counts)))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The trend state keeps one slot per article present: its size is memory per article.
    #[test]
    fn an_article_slot_stays_small() {
        assert_eq!(std::mem::size_of::<Doc>(), 32);
        assert_eq!(std::mem::size_of::<Emitted>(), 64);
        assert!(
            std::mem::size_of::<Option<Article>>() <= 48,
            "{} bytes",
            std::mem::size_of::<Option<Article>>()
        );
    }

    /// A source is held once while any article names it; its id is reused once none does.
    #[test]
    fn sources_are_held_once_while_named() {
        let mut sources = Sources::default();
        let a = sources.acquire("nationalbulletin-example.com");
        let b = sources.acquire("other.example");
        assert_eq!(sources.acquire("nationalbulletin-example.com"), a);
        assert_ne!(a, b);
        assert_eq!(
            (sources.name(a), sources.name(b)),
            ("nationalbulletin-example.com", "other.example")
        );
        sources.release(a);
        assert_eq!(sources.name(a), "nationalbulletin-example.com");
        sources.release(a);
        assert_eq!(sources.ids.len(), 1);
        let c = sources.acquire("third.example");
        assert_eq!(c, a, "the freed id is reused");
        assert_eq!(sources.name(c), "third.example");
        assert_eq!(sources.name(b), "other.example");
        assert_eq!(sources.acquire("nationalbulletin-example.com"), 2);
    }
}
