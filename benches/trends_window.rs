//! Acceptance benchmark of the trends issue: the cost of adding (then retracting) 1,000 articles to a 7-day trend window that holds W live articles.
//
// Not a criterion benchmark: the dataflow is stateful, so this is a plain `main` that loads a
// window once (untimed), then times epochs on it and prints a table (and writes JSON to
// `target/bench-results/trends_window.json`). See `benches/README.md`.
//
// Parameters (environment, or `--name=value` after `cargo bench --bench trends_window --`):
// - `TRENDFLOW_BENCH_WINDOWS` / `--windows`: window sizes W, default `10000,100000`;
// - `TRENDFLOW_BENCH_WORKERS` / `--workers`: timely worker counts, default `1,2`;
// - `TRENDFLOW_BENCH_ITERS` / `--iters`: measured iterations per configuration, default 10
//   (each iteration is one insert epoch and one retract epoch; one more runs first, unrecorded);
// - `TRENDFLOW_BENCH_BAND` / `--band`: the trend method's band (see `SimilarityConfig`),
//   default the method's default;
// - `TRENDFLOW_BENCH_MIN_JACCARD` / `--min_jaccard`: the edge threshold (0–1), default the
//   method's default (a higher one makes the generated graph as sparse across stories as real
//   headlines are at the default: see the README);
// - `TRENDFLOW_BENCH_SEED` / `--seed`: generator seed, default 7;
// - `TRENDFLOW_BENCH_PROFILE=1` / `--profile=1`: also print the operators that took most time
//   during the measured epochs (from timely's event log, worker 0).

mod support;

use std::cell::RefCell;
use std::collections::{BTreeMap, HashMap};
use std::rc::Rc;
use std::sync::atomic::{AtomicI64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};
use support::close_epoch;

use dataflows::decode::Decoder;
use dataflows::differential_dataflow::input::Input;
use dataflows::event::{ArticleKey, Change, Event, Record};
use dataflows::graph::{build, GraphConfig};
use dataflows::output::Row;
use dataflows::timely;
use dataflows::timely::logging::{StartStop, TimelyEvent, TimelyEventBuilder};
use dataflows::trends::similarity::{is_near_duplicate, jaccard, SimilarityConfig};
use dataflows::trends::{text, MINUTE_MS};
use trendflow::gen::{generate, GenOptions};

/// Articles added (then retracted) per timed epoch.
const BATCH: usize = 1_000;
/// 2026-01-01T00:00:00Z.
const START_MS: i64 = 1_767_225_600_000;
/// The generated stream spans the trend window (7 days), so every article is inside it.
const GEN_DAYS: u32 = 7;

/// Parameters of a run.
struct Params {
    windows: Vec<usize>,
    workers: Vec<usize>,
    iters: usize,
    seed: u64,
    profile: bool,
    /// The trend method's similarity settings: the default with the band and edge threshold
    /// given.
    similarity: SimilarityConfig,
    /// Unrecorded iterations before the measured ones.
    warm_up: usize,
}

fn param(name: &str, env: &str, default: &str) -> String {
    let flag = format!("--{name}=");
    std::env::args()
        .find_map(|a| a.strip_prefix(&flag).map(str::to_string))
        .or_else(|| std::env::var(env).ok())
        .unwrap_or_else(|| default.to_string())
}

fn list(name: &str, env: &str, default: &str) -> Vec<usize> {
    param(name, env, default)
        .split(',')
        .filter(|s| !s.trim().is_empty())
        .map(|s| {
            s.trim()
                .replace('_', "")
                .parse()
                .unwrap_or_else(|_| panic!("{name}: not a number: {s}"))
        })
        .collect()
}

impl Params {
    fn from_env() -> Params {
        Params {
            windows: list("windows", "TRENDFLOW_BENCH_WINDOWS", "10000,100000"),
            workers: list("workers", "TRENDFLOW_BENCH_WORKERS", "1,2"),
            iters: list("iters", "TRENDFLOW_BENCH_ITERS", "10")[0].max(1),
            seed: list("seed", "TRENDFLOW_BENCH_SEED", "7")[0] as u64,
            profile: list("profile", "TRENDFLOW_BENCH_PROFILE", "0")[0] != 0,
            similarity: SimilarityConfig {
                band: list(
                    "band",
                    "TRENDFLOW_BENCH_BAND",
                    &SimilarityConfig::default().band.to_string(),
                )[0],
                min_jaccard: {
                    let default = SimilarityConfig::default().min_jaccard as f64 / 1e6;
                    let v = param(
                        "min_jaccard",
                        "TRENDFLOW_BENCH_MIN_JACCARD",
                        &default.to_string(),
                    );
                    let j: f64 = v
                        .trim()
                        .parse()
                        .unwrap_or_else(|_| panic!("min_jaccard: not a number: {v}"));
                    assert!(j > 0.0 && j <= 1.0, "min_jaccard: {j} is not in (0, 1]");
                    (j * 1e6).round() as i64
                },
                ..SimilarityConfig::default()
            },
            warm_up: 1,
        }
    }
}

/// The events of one window size: `base` brings the window to exactly W live articles, `batch`
/// is the next 1,000 first-published articles of the same stream.
struct Workload {
    window: usize,
    /// Every article line up to the point where W identities are live (first sends, and the
    /// corrections and deletes the generator interleaves with them).
    base: Vec<Event>,
    /// The next 1,000 articles published after the base (corrections/deletes in between skipped).
    batch: Vec<Event>,
    /// Oldest and newest `published_at` over base and batch.
    published: (i64, i64),
    gen_lines: u64,
    gen_bytes: usize,
    prep: Duration,
}

fn workload(window: usize, seed: u64) -> Workload {
    let started = Instant::now();
    // About 3.5% of article lines are corrections and deletes; leave room for them.
    let lines = ((window + BATCH) as f64 * 1.06) as u64 + 500;
    let mut bytes = Vec::new();
    let opts = GenOptions {
        seed,
        articles: lines,
        collector_results: 0,
        malformed_share: 0.0,
        start_ms: START_MS,
        days: GEN_DAYS,
    };
    generate(&opts, &mut bytes, &mut |_, _| {}).expect("generate articles");
    let mut decoder = Decoder::default();
    let mut alive: HashMap<ArticleKey, bool> = HashMap::new();
    let (mut live, mut base, mut batch) = (0usize, Vec::new(), Vec::new());
    let (mut oldest, mut newest) = (i64::MAX, i64::MIN);
    let mut filling = true;
    for (seq, line) in bytes.split(|b| *b == b'\n').enumerate() {
        if line.is_empty() {
            continue;
        }
        let event = decoder
            .decode_any(None, None, Some(line), seq as u64)
            .expect("generated lines decode");
        let Event::Article(key, record) = &event else {
            panic!("the generator was asked for articles only");
        };
        let published = match &record.change {
            Change::Upsert(a) => Some(a.published_at),
            Change::Delete | Change::Tombstone => None,
        };
        if filling {
            // The generator emits corrections and deletes after the first send, with higher
            // versions, so the latest line of an identity is its current state.
            let was = alive
                .insert(key.clone(), published.is_some())
                .unwrap_or(false);
            live = live + usize::from(published.is_some()) - usize::from(was);
            filling = live < window;
            base.push(event);
        } else if published.is_some() && !alive.contains_key(key) {
            alive.insert(key.clone(), true);
            batch.push(event);
        } else {
            continue;
        }
        if let Some(p) = published {
            oldest = oldest.min(p);
            newest = newest.max(p);
        }
        if batch.len() == BATCH {
            break;
        }
    }
    assert_eq!(
        batch.len(),
        BATCH,
        "the generated stream ran out before W + 1,000 articles; raise the line count"
    );
    Workload {
        window,
        base,
        batch,
        published: (oldest, newest),
        gen_lines: lines,
        gen_bytes: bytes.len(),
        prep: started.elapsed(),
    }
}

/// The similarity graph of the window, computed sequentially with the graph's own rule (words in
/// at most `index_cap` live headlines propose pairs; Jaccard ≥ `min_jaccard` or near-duplicate
/// makes an edge), to explain the measured costs (`TRENDFLOW_BENCH_PROFILE=1`).
fn graph_stats(work: &Workload, params: &Params) -> String {
    let config = params.similarity;
    let band = config.band;
    let mut current: HashMap<&ArticleKey, Option<(i64, &str)>> = HashMap::new();
    for event in &work.base {
        if let Event::Article(key, record) = event {
            let title = match &record.change {
                Change::Upsert(a) => Some((a.published_at, a.title.as_str())),
                Change::Delete | Change::Tombstone => None,
            };
            current.insert(key, title);
        }
    }
    // In time order, so that each word's postings (ascending indices) are in time order.
    let mut docs: Vec<(i64, &ArticleKey, &str)> = current
        .into_iter()
        .filter_map(|(k, t)| t.map(|(at, t)| (at, k, t)))
        .collect();
    docs.sort();
    let features: Vec<Vec<String>> = docs.iter().map(|(_, _, t)| text::features(t)).collect();
    let mut postings: HashMap<&str, Vec<u32>> = HashMap::new();
    for (i, f) in features.iter().enumerate() {
        for w in f {
            postings.entry(w.as_str()).or_default().push(i as u32);
        }
    }
    let cap = config.index_cap as usize;
    // The candidates of headline `at` (`None`: an arriving one, after all the others).
    let neighbours = |f: &[String], at: Option<u32>, seen: &mut Vec<u32>| {
        seen.clear();
        for w in f {
            let Some(p) = postings.get(w.as_str()) else {
                continue;
            };
            if p.len() <= cap {
                seen.extend_from_slice(p);
            } else {
                let i = at.map_or(p.len(), |at| p.binary_search(&at).unwrap_or_else(|i| i));
                seen.extend_from_slice(&p[i.saturating_sub(band)..(i + band + 1).min(p.len())]);
            }
        }
        seen.sort_unstable();
        seen.dedup();
    };
    let is_edge = |a: &[String], b: &[String]| {
        let j = jaccard(a, b);
        j >= config.min_jaccard || is_near_duplicate(a, b, j, config)
    };
    let (mut candidates, mut edges, mut max_degree, mut seen) =
        (0usize, 0usize, 0usize, Vec::new());
    let (mut unindexed, mut isolated) = (0usize, 0usize);
    for (i, f) in features.iter().enumerate() {
        neighbours(f, Some(i as u32), &mut seen);
        let others = seen.iter().filter(|&&o| o as usize != i);
        let degree = others
            .clone()
            .filter(|&&o| is_edge(f, &features[o as usize]))
            .count();
        let proposed = others.count();
        unindexed += usize::from(proposed == 0);
        isolated += usize::from(degree == 0);
        candidates += proposed;
        edges += degree;
        max_degree = max_degree.max(degree);
    }
    let capped = postings.values().filter(|p| p.len() > cap).count();
    let (mut batch_candidates, mut batch_edges) = (0usize, 0usize);
    for event in &work.batch {
        if let Event::Article(
            _,
            Record {
                change: Change::Upsert(a),
                ..
            },
        ) = event
        {
            let f = text::features(&a.title);
            neighbours(&f, None, &mut seen);
            batch_candidates += seen.len();
            batch_edges += seen
                .iter()
                .filter(|&&o| is_edge(&f, &features[o as usize]))
                .count();
        }
    }
    let n = docs.len().max(1) as f64;
    format!(
        "{} live headlines, {} distinct words ({} above the index cap of {cap}, band {band}, Jaccard ≥ {:.2}); {} candidate pairs, {} edges (mean degree {:.1}, max {max_degree}); {unindexed} headlines get no candidate and {isolated} no edge; an arriving article has {:.0} candidates and {:.1} edges on average",
        docs.len(),
        postings.len(),
        capped,
        config.min_jaccard as f64 / 1e6,
        candidates / 2,
        edges / 2,
        edges as f64 / n,
        batch_candidates as f64 / work.batch.len().max(1) as f64,
        batch_edges as f64 / work.batch.len().max(1) as f64,
    )
}

/// What worker 0 measured on one window and worker count.
struct Measured {
    load: Duration,
    /// Live `trend_articles` rows after the load, and while a batch is in.
    live_after_load: i64,
    live_with_batch: i64,
    /// Live `trends` rows after the load, and the largest trend's article count.
    trends_after_load: i64,
    largest_trend: u64,
    /// An epoch with no input: the fixed cost of stepping the graph.
    empty: Vec<Duration>,
    insert: Vec<Duration>,
    retract: Vec<Duration>,
    /// Output row updates (sum of |diff|) of the last insert epoch.
    insert_output_updates: i64,
    rss_after_load_mb: Option<u64>,
    rss_end_mb: Option<u64>,
    /// Resident set size after each iteration (insert + retract), warm-up included.
    rss_by_iteration_mb: Vec<Option<u64>>,
    /// With `TRENDFLOW_BENCH_PROFILE=1`: the operators that took most time over the measured
    /// epochs, and the total scheduled time.
    profile: Vec<(Vec<usize>, String, f64)>,
    profiled_ms: f64,
}

/// Per-operator scheduled time from timely's event log (worker 0), for `TRENDFLOW_BENCH_PROFILE=1`.
#[derive(Default)]
struct Profile {
    recording: bool,
    /// Operator id → (address, name).
    operators: HashMap<usize, (Vec<usize>, String)>,
    /// Open schedule calls: (operator id, start, time spent in nested operators).
    open: Vec<(usize, Duration, Duration)>,
    /// Operator id → time scheduled minus time in nested operators.
    own: HashMap<usize, Duration>,
}

impl Profile {
    fn record(&mut self, at: Duration, event: &TimelyEvent) {
        match event {
            TimelyEvent::Operates(op) => {
                self.operators
                    .insert(op.id, (op.addr.clone(), op.name.clone()));
            }
            TimelyEvent::Schedule(s) => match s.start_stop {
                StartStop::Start => self.open.push((s.id, at, Duration::ZERO)),
                StartStop::Stop => {
                    if let Some((id, start, nested)) = self.open.pop() {
                        let spent = at.saturating_sub(start);
                        if let Some(parent) = self.open.last_mut() {
                            parent.2 += spent;
                        }
                        if self.recording {
                            *self.own.entry(id).or_default() += spent.saturating_sub(nested);
                        }
                    }
                }
            },
            _ => {}
        }
    }

    /// The operators that took most time: (address, name, ms), largest first.
    fn top(&self, n: usize) -> Vec<(Vec<usize>, String, f64)> {
        let mut top: Vec<(Vec<usize>, String, f64)> = self
            .own
            .iter()
            .map(|(id, d)| {
                let (addr, name) = self.operators.get(id).cloned().unwrap_or_default();
                (addr, name, d.as_secs_f64() * 1e3)
            })
            .collect();
        top.sort_by(|a, b| b.2.total_cmp(&a.2));
        top.truncate(n);
        top
    }
}

/// Resident set size of this process (Linux), in MiB.
fn rss_mb(field: &str) -> Option<u64> {
    let status = std::fs::read_to_string("/proc/self/status").ok()?;
    let line = status.lines().find(|l| l.starts_with(field))?;
    let kb: u64 = line.split_whitespace().nth(1)?.parse().ok()?;
    Some(kb / 1024)
}

/// This worker's share of `events` (round-robin, as the engine shares messages).
fn share(events: &[Event], index: usize, peers: usize) -> Vec<Event> {
    events
        .iter()
        .enumerate()
        .filter(|(i, _)| i % peers == index)
        .map(|(_, e)| e.clone())
        .collect()
}

fn run(work: &Arc<Workload>, workers: usize, params: &Params) -> Measured {
    let (iters, warm_up, profile) = (params.iters, params.warm_up, params.profile);
    let mut config = GraphConfig::default();
    config.trends.similarity = params.similarity;
    let work = Arc::clone(work);
    let live_articles = Arc::new(AtomicI64::new(0));
    let live_trends = Arc::new(AtomicI64::new(0));
    let output_updates = Arc::new(AtomicI64::new(0));
    let trend_sizes: Arc<Mutex<BTreeMap<(u64, String), i64>>> = Arc::default();
    let guards = timely::execute(timely::Config::process(workers), move |worker| {
        let (index, peers) = (worker.index(), worker.peers());
        let (articles, trends, updates, sizes) = (
            Arc::clone(&live_articles),
            Arc::clone(&live_trends),
            Arc::clone(&output_updates),
            Arc::clone(&trend_sizes),
        );
        let log: Rc<RefCell<Profile>> = Rc::default();
        if profile && index == 0 {
            let log = Rc::clone(&log);
            worker
                .log_register()
                .expect("logging registry")
                .insert::<TimelyEventBuilder, _>("timely", move |_, events| {
                    if let Some(events) = events {
                        let mut log = log.borrow_mut();
                        for (at, event) in events.iter() {
                            log.record(*at, event);
                        }
                    }
                });
        }
        let (mut input, probe) = worker.dataflow::<u64, _, _>(|scope| {
            let (input, events) = scope.new_collection::<Event, isize>();
            let outputs = build(
                events,
                config,
                Box::new(dataflows::blobs::MemBlobs::default()),
            );
            let (probe, _) = outputs
                .rows
                .inspect_batch(move |_, rows| {
                    for (row, _, diff) in rows {
                        let diff = *diff as i64;
                        updates.fetch_add(diff.abs(), Ordering::Relaxed);
                        match row {
                            Row::TrendArticle(_) => {
                                articles.fetch_add(diff, Ordering::Relaxed);
                            }
                            Row::Trend(t) => {
                                trends.fetch_add(diff, Ordering::Relaxed);
                                let mut sizes = sizes.lock().expect("trend sizes");
                                let n = sizes.entry((t.article_count, t.trend_id.clone()));
                                *n.or_insert(0) += diff;
                            }
                            _ => {}
                        }
                    }
                })
                .probe();
            outputs.watermark.probe_with(&probe);
            (input, probe)
        });

        // The window: loaded in one epoch, not part of the measurements.
        let started = Instant::now();
        for event in share(&work.base, index, peers) {
            input.insert(event);
        }
        close_epoch(worker, &mut input, &probe);
        let load = started.elapsed();
        let live_after_load = live_articles.load(Ordering::Relaxed);
        let trends_after_load = live_trends.load(Ordering::Relaxed);
        let largest_trend = trend_sizes
            .lock()
            .expect("trend sizes")
            .iter()
            .filter(|(_, n)| **n > 0)
            .map(|((size, _), _)| *size)
            .max()
            .unwrap_or(0);
        let rss_after_load_mb = rss_mb("VmRSS:");

        let mine = share(&work.batch, index, peers);
        let (mut empty, mut insert, mut retract) = (Vec::new(), Vec::new(), Vec::new());
        let (mut live_with_batch, mut insert_output_updates) = (0, 0);
        let mut rss_by_iteration_mb = Vec::new();
        // The first iteration warms up and is not recorded.
        for iteration in 0..warm_up + iters {
            log.borrow_mut().recording = iteration >= warm_up;
            let started = Instant::now();
            close_epoch(worker, &mut input, &probe);
            let empty_epoch = started.elapsed();

            let batch = mine.clone();
            let before = output_updates.load(Ordering::Relaxed);
            let started = Instant::now();
            for event in batch {
                input.insert(event);
            }
            close_epoch(worker, &mut input, &probe);
            let inserted = started.elapsed();
            insert_output_updates = output_updates.load(Ordering::Relaxed) - before;
            live_with_batch = live_articles.load(Ordering::Relaxed);

            let batch = mine.clone();
            let started = Instant::now();
            for event in batch {
                input.remove(event);
            }
            close_epoch(worker, &mut input, &probe);
            let retracted = started.elapsed();
            rss_by_iteration_mb.push(rss_mb("VmRSS:"));
            if iteration >= warm_up {
                empty.push(empty_epoch);
                insert.push(inserted);
                retract.push(retracted);
            }
        }
        assert_eq!(
            live_articles.load(Ordering::Relaxed),
            live_after_load,
            "retracting the batch restores the window"
        );
        let log = log.borrow();
        let profiled_ms = log.own.values().map(|d| d.as_secs_f64() * 1e3).sum();
        (index == 0).then(|| Measured {
            profile: log.top(25),
            profiled_ms,
            load,
            live_after_load,
            live_with_batch,
            trends_after_load,
            largest_trend,
            empty,
            insert,
            retract,
            insert_output_updates,
            rss_after_load_mb,
            rss_end_mb: rss_mb("VmRSS:"),
            rss_by_iteration_mb,
        })
    })
    .expect("timely");
    guards
        .join()
        .into_iter()
        .filter_map(|r| r.expect("worker"))
        .next()
        .expect("worker 0 reports")
}

/// Nearest-rank percentile of `samples`, in milliseconds.
fn percentile_ms(samples: &[Duration], p: f64) -> f64 {
    let mut ms: Vec<f64> = samples.iter().map(|d| d.as_secs_f64() * 1e3).collect();
    ms.sort_by(f64::total_cmp);
    let rank = ((p * ms.len() as f64).ceil() as usize).clamp(1, ms.len());
    ms[rank - 1]
}

fn main() {
    let mut params = Params::from_env();
    let smoke = !std::env::args().any(|a| a == "--bench");
    if smoke {
        // `cargo test --all-targets` runs bench targets without `--bench`: a small smoke run
        // keeps the code exercised without spending minutes and gigabytes in the test suite.
        params.windows = vec![2_000];
        params.workers = vec![1];
        params.iters = 1;
        params.warm_up = 0;
    }
    let date = chrono::Utc::now().format("%Y-%m-%d %H:%M UTC").to_string();
    println!(
        "trends_window: windows {:?}, workers {:?}, {} measured iterations (+{} warm-up), seed {}, {} cores",
        params.windows,
        params.workers,
        params.iters,
        params.warm_up,
        params.seed,
        std::thread::available_parallelism().map_or(0, |n| n.get()),
    );
    let mut results = Vec::new();
    for &window in &params.windows {
        let work = Arc::new(workload(window, params.seed));
        let (oldest, newest) = work.published;
        let span_minutes = (newest / MINUTE_MS) - (oldest / MINUTE_MS);
        assert!(
            span_minutes < GraphConfig::default().trends.window_ms / MINUTE_MS,
            "every article must fall inside the window"
        );
        assert_eq!(work.window, window);
        println!(
            "W={window}: generated {} lines ({:.1} MB) in {:.1}s; base {} events, batch {} articles; published span {:.2} days",
            work.gen_lines,
            work.gen_bytes as f64 / 1e6,
            work.prep.as_secs_f64(),
            work.base.len(),
            work.batch.len(),
            span_minutes as f64 / 1440.0,
        );
        let graph = params.profile.then(|| graph_stats(&work, &params));
        if let Some(graph) = &graph {
            println!("  similarity graph: {graph}");
        }
        for &workers in &params.workers {
            let m = run(&work, workers, &params);
            if params.profile {
                println!(
                    "  operators by own scheduled time over the measured epochs (worker 0, {:.0} ms in all):",
                    m.profiled_ms
                );
                for (addr, name, ms) in &m.profile {
                    println!(
                        "    {ms:9.1} ms {:5.1}%  {name} {addr:?}",
                        100.0 * ms / m.profiled_ms
                    );
                }
            }
            assert_eq!(
                m.live_after_load, window as i64,
                "the window holds exactly W live articles"
            );
            let mut row = serde_json::json!({
                "window": window,
                "workers": workers,
                "iterations": params.iters,
                "load_s": m.load.as_secs_f64(),
                "live_trend_articles": m.live_after_load,
                "live_trend_articles_with_batch": m.live_with_batch,
                "live_trends": m.trends_after_load,
                "largest_trend_articles": m.largest_trend,
                "insert_ms_median": percentile_ms(&m.insert, 0.5),
                "insert_ms_p90": percentile_ms(&m.insert, 0.9),
                "insert_us_per_article": percentile_ms(&m.insert, 0.5) * 1e3 / BATCH as f64,
                "retract_ms_median": percentile_ms(&m.retract, 0.5),
                "retract_ms_p90": percentile_ms(&m.retract, 0.9),
                "retract_us_per_article": percentile_ms(&m.retract, 0.5) * 1e3 / BATCH as f64,
                "empty_epoch_ms_median": percentile_ms(&m.empty, 0.5),
                "insert_output_row_updates": m.insert_output_updates,
                "insert_ms_all": m.insert.iter().map(|d| d.as_secs_f64() * 1e3).collect::<Vec<_>>(),
                "retract_ms_all": m.retract.iter().map(|d| d.as_secs_f64() * 1e3).collect::<Vec<_>>(),
                "rss_after_load_mib": m.rss_after_load_mb,
                "rss_end_mib": m.rss_end_mb,
                "rss_mib_after_each_iteration": m.rss_by_iteration_mb,
            });
            println!(
                "  W={window} workers={workers}: load {:.1}s, live {} articles / {} trends (largest {}), insert median {:.1} ms p90 {:.1} ms, retract median {:.1} ms p90 {:.1} ms, empty epoch {:.2} ms, RSS {:?} MiB",
                m.load.as_secs_f64(),
                m.live_after_load,
                m.trends_after_load,
                m.largest_trend,
                percentile_ms(&m.insert, 0.5),
                percentile_ms(&m.insert, 0.9),
                percentile_ms(&m.retract, 0.5),
                percentile_ms(&m.retract, 0.9),
                percentile_ms(&m.empty, 0.5),
                m.rss_after_load_mb,
            );
            if params.profile {
                row["similarity_graph"] = serde_json::json!(graph);
                row["profile_ms_by_operator"] = serde_json::json!(m
                    .profile
                    .iter()
                    .map(|(addr, name, ms)| serde_json::json!({"operator": name, "address": addr, "ms": ms}))
                    .collect::<Vec<_>>());
            }
            results.push(row);
        }
    }

    // Per-article cost relative to the smallest window of the same worker count.
    let per_article = |r: &serde_json::Value, k: &str| r[k].as_f64().unwrap_or(f64::NAN);
    let baselines: Vec<(u64, f64, f64)> = results
        .iter()
        .map(|r| {
            let workers = r["workers"].as_u64().unwrap_or(0);
            let smallest = results
                .iter()
                .filter(|o| o["workers"].as_u64() == Some(workers))
                .min_by_key(|o| o["window"].as_u64())
                .unwrap_or(r);
            (
                workers,
                per_article(smallest, "insert_us_per_article"),
                per_article(smallest, "retract_us_per_article"),
            )
        })
        .collect();
    for (row, (_, ins, ret)) in results.iter_mut().zip(&baselines) {
        row["insert_ratio_to_smallest_window"] =
            serde_json::json!(per_article(row, "insert_us_per_article") / ins);
        row["retract_ratio_to_smallest_window"] =
            serde_json::json!(per_article(row, "retract_us_per_article") / ret);
    }
    println!();
    println!("| W | workers | live articles | load s | insert ms/1k median | p90 | µs/article | ×smallest W | retract ms/1k median | p90 | µs/article | ×smallest W | empty epoch ms |");
    println!("|---|---|---|---|---|---|---|---|---|---|---|---|---|");
    for row in &results {
        let f = |k: &str| per_article(row, k);
        println!(
            "| {} | {} | {} | {:.1} | {:.1} | {:.1} | {:.1} | {:.2} | {:.1} | {:.1} | {:.1} | {:.2} | {:.2} |",
            row["window"],
            row["workers"],
            row["live_trend_articles"],
            f("load_s"),
            f("insert_ms_median"),
            f("insert_ms_p90"),
            f("insert_us_per_article"),
            f("insert_ratio_to_smallest_window"),
            f("retract_ms_median"),
            f("retract_ms_p90"),
            f("retract_us_per_article"),
            f("retract_ratio_to_smallest_window"),
            f("empty_epoch_ms_median"),
        );
    }

    let dir = std::env::var_os("CARGO_TARGET_DIR")
        .map(std::path::PathBuf::from)
        .unwrap_or_else(|| std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("target"))
        .join("bench-results");
    let report = serde_json::json!({
        "benchmark": "trends_window",
        "date": date,
        "cores": std::thread::available_parallelism().map_or(0, |n| n.get()),
        "batch_articles": BATCH,
        "seed": params.seed,
        "band": params.similarity.band,
        "min_jaccard": params.similarity.min_jaccard as f64 / 1e6,
        "results": results,
    });
    if smoke {
        return; // a smoke run under `cargo test` records nothing
    }
    let path = dir.join(if params.profile {
        "trends_window_profile.json"
    } else {
        "trends_window.json"
    });
    std::fs::create_dir_all(&dir).expect("create target/bench-results");
    std::fs::write(
        &path,
        serde_json::to_string_pretty(&report).expect("serialise results"),
    )
    .expect("write results");
    println!("\nwrote {}", path.display());
}
