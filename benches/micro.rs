//! Criterion micro-benchmarks: event decoding (MB/s), headline text features and candidate/similarity work per article, the clustering state's epoch per article, trend state per trend, and metrics-graph epochs of 1,000 mixed collector-result events (µs per event).
//
// Run with `cargo bench --bench micro` (criterion options after `--`, e.g. a name filter).
// See `benches/README.md`.

mod support;

use std::collections::{HashMap, HashSet};
use std::hint::black_box;
use std::sync::Arc;
use std::time::{Duration, Instant};
use support::close_epoch;

use criterion::{BenchmarkId, Criterion, Throughput};
use dataflows::decode::Decoder;
use dataflows::differential_dataflow::input::Input;
use dataflows::event::{Change, CollectorResult, Event, Record, Text};
use dataflows::graph::{build, GraphConfig};
use dataflows::timely;
use dataflows::trends::index::TrendIndex;
use dataflows::trends::similarity::{is_near_duplicate, jaccard, SimilarityConfig};
use dataflows::trends::{minute_of, text, trend_state, Doc, Node, Recency, TrendConfig};
use trendflow::gen::{generate, GenOptions};

/// 2026-01-01T00:00:00Z.
const START_MS: i64 = 1_767_225_600_000;
const SEED: u64 = 7;

/// Generated JSON lines (no malformed ones) of the given counts.
fn lines(articles: u64, collector_results: u64, days: u32) -> Vec<Vec<u8>> {
    let mut bytes = Vec::new();
    let opts = GenOptions {
        seed: SEED,
        articles,
        collector_results,
        malformed_share: 0.0,
        start_ms: START_MS,
        days,
    };
    generate(&opts, &mut bytes, &mut |_, _| {}).expect("generate");
    bytes
        .split(|b| *b == b'\n')
        .filter(|l| !l.is_empty())
        .map(<[u8]>::to_vec)
        .collect()
}

fn decode_all(lines: &[Vec<u8>]) -> Vec<Event> {
    let mut decoder = Decoder::default();
    lines
        .iter()
        .enumerate()
        .map(|(seq, l)| {
            decoder
                .decode_any(None, None, Some(l), seq as u64)
                .expect("generated lines decode")
        })
        .collect()
}

/// Headlines of the first-sent articles of a generated stream, in stream order.
fn headlines(events: &[Event]) -> Vec<Doc> {
    let mut seen = HashSet::new();
    events
        .iter()
        .filter_map(|e| match e {
            Event::Article(
                key,
                Record {
                    change: Change::Upsert(a),
                    ..
                },
            ) if seen.insert(key.clone()) => Some(Doc::new(key, &a.title, a.published_at)),
            _ => None,
        })
        .collect()
}

/// Decoding (`Decoder::decode_any`, the kind read from the line as for a mixed file): MB/s.
fn decoding(c: &mut Criterion) {
    let mut group = c.benchmark_group("decode");
    for (name, lines) in [
        ("collector_result", lines(0, 2_000, 14)),
        ("article", lines(2_000, 0, 14)),
    ] {
        let bytes: usize = lines.iter().map(Vec::len).sum();
        group.throughput(Throughput::Bytes(bytes as u64));
        let mut decoder = Decoder::default();
        group.bench_function(
            BenchmarkId::new(name, format!("{} lines", lines.len())),
            |b| {
                b.iter(|| {
                    for (seq, l) in lines.iter().enumerate() {
                        let event = decoder.decode_any(None, None, Some(l), seq as u64);
                        black_box(event.expect("decodes"));
                    }
                })
            },
        );
    }
    group.finish();
}

/// A sequential model of the similarity step for one arriving article: look up its words in an
/// index of the live window (words in at most `index_cap` headlines), score every candidate with
/// Jaccard, keep the edges. This is the per-article work the README bounds by words × cap.
struct Index {
    features: Vec<Vec<String>>,
    postings: HashMap<String, Vec<u32>>,
}

impl Index {
    fn new(docs: &[Doc]) -> Index {
        let features: Vec<Vec<String>> = docs.iter().map(|d| text::features(d.title())).collect();
        let mut postings: HashMap<String, Vec<u32>> = HashMap::new();
        for (i, f) in features.iter().enumerate() {
            for w in f {
                postings.entry(w.clone()).or_default().push(i as u32);
            }
        }
        Index { features, postings }
    }

    /// (candidates, edges) of a new headline against the window.
    fn edges(
        &self,
        features: &[String],
        config: SimilarityConfig,
        seen: &mut Vec<u32>,
    ) -> (usize, usize) {
        seen.clear();
        for w in features {
            if let Some(p) = self.postings.get(w) {
                if p.len() as u64 <= config.index_cap {
                    seen.extend_from_slice(p);
                }
            }
        }
        seen.sort_unstable();
        seen.dedup();
        let mut edges = 0;
        for &other in seen.iter() {
            let theirs = &self.features[other as usize];
            let j = jaccard(features, theirs);
            if j >= config.min_jaccard || is_near_duplicate(features, theirs, j, config) {
                edges += 1;
            }
        }
        (seen.len(), edges)
    }
}

/// Headline features and the candidate/similarity work per article, in articles/s.
fn trend_text(c: &mut Criterion) {
    // A 7-day window of 10,000 articles and the 1,000 published after it.
    let docs = headlines(&decode_all(&lines(11_600, 0, 7)));
    let (window, arriving) = docs.split_at(10_000);
    let arriving = &arriving[..1_000.min(arriving.len())];

    let mut group = c.benchmark_group("trend_text");
    group.throughput(Throughput::Elements(arriving.len() as u64));
    group.bench_function("features per headline", |b| {
        b.iter(|| {
            for d in arriving {
                black_box(text::features(black_box(d.title())));
            }
        })
    });

    let config = SimilarityConfig::default();
    let index = Index::new(window);
    let arriving_features: Vec<Vec<String>> =
        arriving.iter().map(|d| text::features(d.title())).collect();
    let (mut candidates, mut edges, mut seen) = (0, 0, Vec::new());
    for f in &arriving_features {
        let (c, e) = index.edges(f, config, &mut seen);
        candidates += c;
        edges += e;
    }
    println!(
        "trend_text: against a 10,000-article window, an arriving article has on average {:.0} candidates and {:.1} edges (cap {}, min Jaccard {:.2})",
        candidates as f64 / arriving.len() as f64,
        edges as f64 / arriving.len() as f64,
        config.index_cap,
        config.min_jaccard as f64 / 1e6,
    );
    group.measurement_time(Duration::from_secs(6));
    group.bench_function(
        "candidates + jaccard per article (10k window, sequential model)",
        |b| {
            b.iter(|| {
                for f in &arriving_features {
                    black_box(index.edges(f, config, &mut seen));
                }
            })
        },
    );
    group.finish();

    // The graph's real clustering state (`TrendIndex`, what the trends operator runs): one
    // epoch adding the 1,000 arriving articles to the 10,000-article window (index, edges,
    // every round of label propagation, groups, rows), then one retracting them again.
    let mut group = c.benchmark_group("trend_index");
    group.throughput(Throughput::Elements(2 * arriving.len() as u64));
    group.measurement_time(Duration::from_secs(6));
    let changes = |docs: &[Doc], diff: isize| -> Vec<(Node, Doc, isize)> {
        docs.iter().map(|d| (d.node(), d.clone(), diff)).collect()
    };
    let wm = window
        .iter()
        .chain(arriving)
        .map(|d| minute_of(d.published_at))
        .max()
        .unwrap_or_default();
    let mut state = TrendIndex::new(TrendConfig::default());
    state.apply(changes(window, 1), vec![(wm, 1)]);
    let (add, retract) = (changes(arriving, 1), changes(arriving, -1));
    group.bench_function(
        "add 1,000 then retract them (10k window), per article",
        |b| {
            b.iter(|| {
                black_box(state.apply(add.clone(), Vec::new()));
                black_box(state.apply(retract.clone(), Vec::new()));
            })
        },
    );
    group.finish();

    // The per-trend state (`trend_state`) is recomputed from all members whenever a trend
    // changes: its cost per trend size.
    let mut group = c.benchmark_group("trend_state");
    for size in [10usize, 100, 1_000] {
        let members: Vec<(&Doc, Recency, Node)> = window[..size]
            .iter()
            .enumerate()
            .map(|(i, d)| (d, Recency::Older, (i % 7) as Node))
            .collect();
        group.throughput(Throughput::Elements(size as u64));
        group.bench_function(BenchmarkId::new("members", size), |b| {
            b.iter(|| black_box(trend_state(1, black_box(&members))))
        });
    }
    group.finish();
}

/// Collector results in the metrics state before the timed epochs.
const METRICS_BASE: usize = 100_000;
/// Events per timed epoch: new results, corrections and deletes of existing ones.
const EPOCH_NEW: usize = 800;
const EPOCH_CORRECTIONS: usize = 150;
const EPOCH_DELETES: usize = 50;
/// Distinct prepared epochs, used in turn.
const EPOCH_BATCHES: usize = 8;

/// Epochs of `EPOCH_NEW + EPOCH_CORRECTIONS + EPOCH_DELETES` events against `base`: the next
/// results of the generated stream, plus corrections (a higher version with other scores) and
/// deletes of results in the base.
fn metric_batches(base: &[Event], rest: &[Event]) -> Vec<Vec<Event>> {
    // The current record of each result in the base (later lines carry higher versions).
    let mut latest: HashMap<&Text, &Record<Arc<CollectorResult>>> = HashMap::new();
    let mut order = Vec::new();
    for e in base {
        if let Event::CollectorResult(id, r) = e {
            if latest.insert(id, r).is_none() {
                order.push(id);
            }
        }
    }
    let current: Vec<(&Text, &Record<Arc<CollectorResult>>)> = order
        .iter()
        .map(|id| (*id, latest[id]))
        .filter(|(_, r)| matches!(r.change, Change::Upsert(_)))
        .collect();
    let fresh: Vec<&Event> = rest
        .iter()
        .filter(|e| match e {
            Event::CollectorResult(id, r) => {
                !latest.contains_key(id) && matches!(r.change, Change::Upsert(_))
            }
            Event::Article(..) => false,
        })
        .collect();
    assert!(
        fresh.len() >= EPOCH_NEW * EPOCH_BATCHES,
        "generate more results"
    );
    // A fixed stride over the base picks distinct results to correct and delete.
    let stride = current.len() / ((EPOCH_CORRECTIONS + EPOCH_DELETES) * EPOCH_BATCHES + 1);
    let mut pick = (0..).map(|i| current[(i * stride + stride / 2) % current.len()]);
    let mut seq = 1u64 << 40;
    let mut next_seq = || {
        seq += 1;
        seq
    };
    (0..EPOCH_BATCHES)
        .map(|b| {
            let mut batch: Vec<Event> = fresh[b * EPOCH_NEW..(b + 1) * EPOCH_NEW]
                .iter()
                .map(|e| (*e).clone())
                .collect();
            for k in 0..EPOCH_CORRECTIONS + EPOCH_DELETES {
                let (id, r) = pick.next().expect("endless");
                let change = match &r.change {
                    Change::Upsert(cr) if k < EPOCH_CORRECTIONS => {
                        let mut cr = CollectorResult::clone(cr);
                        cr.version = r.version + 1;
                        cr.brand.visibility_index =
                            (cr.brand.visibility_index + 123_457) % 1_000_001;
                        cr.brand.mentions += 1;
                        Change::Upsert(Arc::new(cr))
                    }
                    _ => Change::Delete,
                };
                batch.push(Event::CollectorResult(
                    id.clone(),
                    Record {
                        seq: next_seq(),
                        version: r.version + 1,
                        change,
                    },
                ));
            }
            batch
        })
        .collect()
}

/// The whole graph (`graph::build`) on collector results only, loaded with 100,000 of them; each
/// measured iteration is one epoch of 1,000 mixed events (then retracted again, untimed, so
/// every epoch meets the same state).
fn metrics_epochs(c: &mut Criterion) {
    // Without `--bench` (criterion's test mode under `cargo test --all-targets`) each benchmark
    // runs once: a smaller state keeps that quick.
    let base_size = if std::env::args().any(|a| a == "--bench") {
        METRICS_BASE
    } else {
        METRICS_BASE / 10
    };
    let events = decode_all(&lines(0, (base_size + 10_000) as u64, 14));
    let (base, rest) = events.split_at(base_size);
    let batches = metric_batches(base, rest);
    let per_epoch = batches[0].len();

    let alloc = timely::communication::Allocator::Thread(Default::default());
    let mut worker = timely::worker::Worker::new(Default::default(), alloc, Some(Instant::now()));
    let (mut input, probe) = worker.dataflow::<u64, _, _>(|scope| {
        let (input, events) = scope.new_collection::<Event, isize>();
        let outputs = build(
            events,
            GraphConfig::default(),
            Box::new(dataflows::blobs::MemBlobs::default()),
        );
        let (probe, _) = outputs.rows.probe();
        outputs.watermark.probe_with(&probe);
        (input, probe)
    });
    let started = Instant::now();
    for e in base {
        input.insert(e.clone());
    }
    close_epoch(&mut worker, &mut input, &probe);
    println!(
        "metrics: loaded {} collector-result events in {:.1}s; epochs of {} events ({} new, {} corrections, {} deletes)",
        base.len(),
        started.elapsed().as_secs_f64(),
        per_epoch,
        EPOCH_NEW,
        EPOCH_CORRECTIONS,
        EPOCH_DELETES,
    );

    let mut group = c.benchmark_group("metrics_graph");
    group.measurement_time(Duration::from_secs(6));
    group.throughput(Throughput::Elements(per_epoch as u64));
    let mut turn = 0usize;
    group.bench_function(
        BenchmarkId::new("epoch of 1000 mixed events", format!("{base_size} results")),
        |b| {
            b.iter_custom(|iters| {
                let mut timed = Duration::ZERO;
                for _ in 0..iters {
                    let batch = &batches[turn % batches.len()];
                    turn += 1;
                    let events = batch.clone();
                    let started = Instant::now();
                    for e in events {
                        input.insert(e);
                    }
                    close_epoch(&mut worker, &mut input, &probe);
                    timed += started.elapsed();
                    for e in batch.iter().cloned() {
                        input.remove(e);
                    }
                    close_epoch(&mut worker, &mut input, &probe);
                }
                timed
            })
        },
    );
    group.finish();
}

fn main() {
    let mut c = Criterion::default()
        .sample_size(10)
        .warm_up_time(Duration::from_secs(1))
        .measurement_time(Duration::from_secs(4))
        .configure_from_args();
    decoding(&mut c);
    trend_text(&mut c);
    metrics_epochs(&mut c);
    c.final_summary();
}
