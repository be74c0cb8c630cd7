//! End-to-end benchmark: cold load (no sink, PostgreSQL, Parquet), incremental epochs on the loaded state, articles, Kafka freshness, state memory, and the DuckDB / Pathway baselines on the same file.
//
// A plain `main` (harness = false). The orchestrator generates the workload, then runs every
// phase in a child process of this same binary (`--phase=NAME`), so that each phase's peak RSS
// is its own; children print one `RESULT {json}` line. Baselines run `python3
// benches/baselines/*.py` on the same file. Everything lands in
// `target/bench-results/e2e.json`, and a Markdown table is printed. See `benches/README.md`.
//
// Parameters (environment `TRENDFLOW_BENCH_<NAME>`, or `--name=value` after `--`):
// - `events` (1000000): collector-result lines of the cold load;
// - `batches` (100) × `batch` (1000): incremental epochs after the load;
// - `articles` (200000): article lines through dedup and trend clustering, then
//   `article_batches` (20) × `batch` epochs of the next day's articles (the window slides);
// - `kafka_rate` (5000) events/s for `kafka_secs` (20) s, epochs of at most `kafka_epoch_ms`
//   (1000, the CLI default) and at least `kafka_epoch_min_ms` (100, the CLI default);
// - `workers` (2); `phases` (all: cold-none,cold-postgres,cold-parquet,incremental-none,
//   incremental-postgres,articles,kafka,duckdb,pathway).
// Services: PostgreSQL at `TRENDFLOW_BENCH_POSTGRES` (default postgres://postgres@127.0.0.1:5432),
// Kafka at `TRENDFLOW_BENCH_KAFKA` (default 127.0.0.1:9092); `scripts/services` starts both.
// Under `cargo test --all-targets` (no `--bench`), a smoke run with tiny sizes and no baselines.

use std::collections::BTreeMap;
use std::io::{BufRead, Write};
use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::mpsc::{self, Receiver, Sender};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use dataflows::event::EventKind;
use dataflows::output::Table;
use rdkafka::producer::{BaseRecord, DeliveryResult, Producer, ProducerContext, ThreadedProducer};
use rdkafka::{ClientContext, Message};
use serde_json::{json, Value};
use trendflow::engine::{AnswerStore, EngineOptions};
use trendflow::gen::{generate, GenOptions};
use trendflow::sinks::{Sink, SinkError};
use trendflow::snapshot::Snapshot;
use trendflow::sources::file::FileSource;
use trendflow::sources::{RawMessage, Source};

/// 2026-01-01T00:00:00Z.
const START_MS: i64 = 1_767_225_600_000;

#[derive(Clone, Debug)]
struct Params {
    events: u64,
    batches: usize,
    batch: usize,
    articles: u64,
    article_batches: usize,
    /// Events per epoch of a cold load.
    load_epoch: usize,
    kafka_rate: u64,
    kafka_secs: u64,
    kafka_epoch_ms: u64,
    kafka_epoch_min_ms: u64,
    workers: usize,
    /// `disk` (the default of `trendflow run`) or `memory`.
    answer_store: String,
    phases: Vec<String>,
    smoke: bool,
}

const ALL_PHASES: &str = "cold-none,cold-postgres,cold-parquet,incremental-none,incremental-postgres,articles,kafka,duckdb,pathway";

impl Params {
    fn from_env(smoke: bool) -> Params {
        let get = |name: &str, default: &str| -> String {
            let flag = format!("--{name}=");
            std::env::args()
                .find_map(|a| a.strip_prefix(&flag).map(str::to_string))
                .or_else(|| std::env::var(format!("TRENDFLOW_BENCH_{}", name.to_uppercase())).ok())
                .unwrap_or_else(|| default.to_string())
        };
        let num = |name: &str, default: u64| -> u64 {
            let v = get(name, &default.to_string());
            v.replace('_', "")
                .parse()
                .unwrap_or_else(|_| panic!("--{name}: {v:?} is not a whole number"))
        };
        if smoke {
            return Params {
                events: 3_000,
                batches: 3,
                batch: 200,
                articles: 1_000,
                article_batches: 3,
                load_epoch: 100_000,
                kafka_rate: 500,
                kafka_secs: 2,
                kafka_epoch_ms: 200,
                kafka_epoch_min_ms: 100,
                workers: 2,
                answer_store: "disk".to_string(),
                phases: "cold-none,cold-postgres,cold-parquet,incremental-none,incremental-postgres,articles,kafka"
                    .split(',')
                    .map(str::to_string)
                    .collect(),
                smoke,
            };
        }
        Params {
            events: num("events", 1_000_000),
            batches: num("batches", 100) as usize,
            batch: num("batch", 1_000) as usize,
            articles: num("articles", 200_000),
            article_batches: num("article_batches", 20) as usize,
            load_epoch: num("load_epoch", 100_000) as usize,
            kafka_rate: num("kafka_rate", 5_000),
            kafka_secs: num("kafka_secs", 20),
            kafka_epoch_ms: num("kafka_epoch_ms", 1_000),
            kafka_epoch_min_ms: num("kafka_epoch_min_ms", 100),
            workers: num("workers", 2) as usize,
            answer_store: get("answer_store", "disk"),
            phases: get("phases", ALL_PHASES)
                .split(',')
                .map(|s| s.trim().to_string())
                .filter(|s| !s.is_empty())
                .collect(),
            smoke,
        }
    }

    fn to_args(&self) -> Vec<String> {
        vec![
            format!("--events={}", self.events),
            format!("--batches={}", self.batches),
            format!("--batch={}", self.batch),
            format!("--articles={}", self.articles),
            format!("--article_batches={}", self.article_batches),
            format!("--load_epoch={}", self.load_epoch),
            format!("--kafka_rate={}", self.kafka_rate),
            format!("--kafka_secs={}", self.kafka_secs),
            format!("--kafka_epoch_ms={}", self.kafka_epoch_ms),
            format!("--kafka_epoch_min_ms={}", self.kafka_epoch_min_ms),
            format!("--workers={}", self.workers),
            format!("--answer_store={}", self.answer_store),
        ]
    }
}

fn data_dir() -> PathBuf {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("target/bench-data");
    std::fs::create_dir_all(&dir).expect("create target/bench-data");
    dir
}

fn cr_file(p: &Params) -> PathBuf {
    data_dir().join(format!("cr-{}.jsonl", p.events))
}
fn inc_file(p: &Params) -> PathBuf {
    data_dir().join(format!(
        "cr-{}-increments-{}x{}.jsonl",
        p.events, p.batches, p.batch
    ))
}
fn articles_file(p: &Params) -> PathBuf {
    data_dir().join(format!("articles-{}.jsonl", p.articles))
}
fn articles_inc_file(p: &Params) -> PathBuf {
    data_dir().join(format!(
        "articles-{}-increments-{}x{}.jsonl",
        p.articles, p.article_batches, p.batch
    ))
}
fn kafka_file(p: &Params) -> PathBuf {
    data_dir().join(format!("cr-kafka-{}.jsonl", p.kafka_rate * p.kafka_secs))
}

/// Writes the workload files (deterministic: seed 7 for the load and its increments, which
/// are the lines that follow the load in the same generated stream, so they mix new results,
/// corrections and deletes of loaded ones; seed 11 for the Kafka stream).
fn generate_workload(p: &Params) {
    let cr_total = p.events + (p.batches * p.batch) as u64;
    let mut all = Vec::new();
    let opts = GenOptions {
        seed: 7,
        articles: 0,
        collector_results: cr_total,
        malformed_share: 0.001,
        start_ms: START_MS,
        days: 30,
    };
    generate(&opts, &mut all, &mut |_, _| {}).expect("generate collector results");
    let mut cut = 0;
    for _ in 0..p.events {
        cut += all[cut..].iter().position(|b| *b == b'\n').expect("line") + 1;
    }
    std::fs::write(cr_file(p), &all[..cut]).expect("write load file");
    std::fs::write(inc_file(p), &all[cut..]).expect("write increments file");
    drop(all);
    let mut articles = Vec::new();
    let opts = GenOptions {
        seed: 7,
        articles: p.articles,
        collector_results: 0,
        malformed_share: 0.001,
        start_ms: START_MS,
        days: 7,
    };
    generate(&opts, &mut articles, &mut |_, _| {}).expect("generate articles");
    std::fs::write(articles_file(p), articles).expect("write articles file");
    // The day after the load's week (seed 8): the window slides as they arrive.
    let mut next_day = Vec::new();
    let opts = GenOptions {
        seed: 8,
        articles: (p.article_batches * p.batch) as u64,
        collector_results: 0,
        malformed_share: 0.001,
        start_ms: START_MS + 7 * 86_400_000,
        days: 1,
    };
    generate(&opts, &mut next_day, &mut |_, _| {}).expect("generate article increments");
    std::fs::write(articles_inc_file(p), next_day).expect("write article increments file");
    let mut kafka = Vec::new();
    let opts = GenOptions {
        seed: 11,
        articles: 0,
        collector_results: p.kafka_rate * p.kafka_secs,
        malformed_share: 0.0,
        start_ms: START_MS,
        days: 30,
    };
    generate(&opts, &mut kafka, &mut |_, _| {}).expect("generate kafka stream");
    std::fs::write(kafka_file(p), kafka).expect("write kafka file");
}

/// Bytes this process has handed to `write` and `pwrite` so far (`/proc/self/io` `wchar`): in a
/// load without sink, the answer store's scratch files.
fn written_bytes() -> u64 {
    std::fs::read_to_string("/proc/self/io")
        .unwrap_or_default()
        .lines()
        .find_map(|l| l.strip_prefix("wchar:"))
        .and_then(|v| v.trim().parse().ok())
        .unwrap_or(0)
}

/// A `/proc/self/status` field in bytes.
fn proc_bytes(field: &str) -> u64 {
    let status = std::fs::read_to_string("/proc/self/status").unwrap_or_default();
    status
        .lines()
        .find(|l| l.starts_with(field))
        .and_then(|l| l.split_whitespace().nth(1))
        .and_then(|kb| kb.parse::<u64>().ok())
        .map_or(0, |kb| kb * 1024)
}

fn engine_options(p: &Params) -> EngineOptions {
    EngineOptions {
        workers: p.workers,
        decoder: dataflows::decode::Decoder::default(),
        max_epochs_in_flight: 2,
        graph: dataflows::graph::GraphConfig::default(),
        answers: match p.answer_store.as_str() {
            "memory" => AnswerStore::Memory,
            "disk" => AnswerStore::Disk(data_dir().join("spill")),
            other => panic!("--answer_store: {other:?} is neither disk nor memory"),
        },
    }
}

fn postgres_server() -> String {
    std::env::var("TRENDFLOW_BENCH_POSTGRES")
        .unwrap_or_else(|_| "postgres://postgres@127.0.0.1:5432".to_string())
}

/// A fresh database for one phase; dropped by [`drop_database`].
fn create_database(phase: &str) -> String {
    let db = format!(
        "tf_bench_{}_{}",
        std::process::id(),
        phase.replace('-', "_")
    );
    admin_sql(&[
        format!("DROP DATABASE IF EXISTS {db} WITH (FORCE)"),
        format!("CREATE DATABASE {db}"),
    ]);
    format!("{}/{db}", postgres_server())
}

fn drop_database(url: &str) {
    let db = url.rsplit('/').next().expect("database name");
    admin_sql(&[format!("DROP DATABASE IF EXISTS {db} WITH (FORCE)")]);
}

fn admin_sql(statements: &[String]) {
    let admin = format!("{}/postgres", postgres_server());
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .expect("tokio");
    rt.block_on(async {
        use sqlx::Executor;
        let pool = sqlx::PgPool::connect(&admin)
            .await
            .expect("connect to PostgreSQL (scripts/services starts it)");
        for s in statements {
            pool.execute(s.as_str()).await.expect("admin statement");
        }
        pool.close().await;
    });
}

/// What the timing sink saw of one committed snapshot.
struct Committed {
    done: Instant,
    events_in: u64,
    offsets: Vec<(String, i32, i64)>,
}

/// The last sink of a phase: reports each commit (after the real sinks committed) and keeps
/// the live row counts of the tables the memory figures divide by.
struct TimingSink {
    tx: Sender<Committed>,
    rows: Arc<Mutex<BTreeMap<Table, i64>>>,
}

impl Sink for TimingSink {
    fn name(&self) -> &'static str {
        "timing"
    }
    fn commit(&mut self, snapshot: &Snapshot) -> Result<(), SinkError> {
        if let Ok(mut rows) = self.rows.lock() {
            for (t, d) in &snapshot.row_delta {
                *rows.entry(*t).or_insert(0) += d;
            }
        }
        let _ = self.tx.send(Committed {
            done: Instant::now(),
            events_in: snapshot.events_in,
            offsets: snapshot
                .offsets
                .iter()
                .map(|o| (o.source.clone(), o.partition, o.next_offset))
                .collect(),
        });
        Ok(())
    }
}

/// A file read to its end, then batches handed in over a channel until the sender is dropped.
struct LoadThenBatches {
    file: Option<FileSource>,
    batches: Receiver<Vec<RawMessage>>,
}

impl Source for LoadThenBatches {
    fn origin(&self) -> String {
        "bench".into()
    }
    fn next_epoch(&mut self) -> std::io::Result<Option<Vec<RawMessage>>> {
        if let Some(f) = self.file.as_mut() {
            match f.next_epoch()? {
                Some(m) => return Ok(Some(m)),
                None => self.file = None,
            }
        }
        Ok(self.batches.recv().ok())
    }
}

/// Where a phase's sink writes: a fresh database, or a fresh folder.
#[derive(Clone)]
struct SinkPlace {
    kind: String,
    url: Option<String>,
    dir: Option<PathBuf>,
}

impl SinkPlace {
    fn new(kind: &str, phase: &str) -> SinkPlace {
        let (url, dir) = match kind {
            "none" => (None, None),
            "postgres" => (Some(create_database(phase)), None),
            "parquet" => {
                let dir = data_dir().join(format!("parquet-{}", std::process::id()));
                let _ = std::fs::remove_dir_all(&dir);
                (None, Some(dir))
            }
            other => panic!("unknown sink {other}"),
        };
        SinkPlace {
            kind: kind.to_string(),
            url,
            dir,
        }
    }

    /// Opens the sinks (on the thread that runs the engine: sinks are not `Send`).
    fn open(&self) -> Vec<Box<dyn Sink>> {
        match (self.kind.as_str(), &self.url, &self.dir) {
            ("postgres", Some(url), _) => vec![Box::new(
                trendflow::sinks::sql::SqlSink::postgres(url).expect("postgres sink"),
            )],
            ("parquet", _, Some(dir)) => vec![Box::new(
                trendflow::sinks::parquet::ParquetSink::open(
                    dir,
                    trendflow::sinks::parquet::ParquetOptions::default(),
                )
                .expect("parquet sink"),
            )],
            _ => Vec::new(),
        }
    }

    fn remove(&self) {
        if let Some(url) = &self.url {
            drop_database(url);
        }
        if let Some(dir) = &self.dir {
            let _ = std::fs::remove_dir_all(dir);
        }
    }
}

fn file_lines(path: &Path) -> Vec<Vec<u8>> {
    let f = std::fs::File::open(path).expect("open");
    std::io::BufReader::new(f)
        .split(b'\n')
        .map(|l| l.expect("read"))
        .collect()
}

/// Lines of a file, counted without holding it in memory.
fn count_lines(path: &Path) -> u64 {
    let mut reader =
        std::io::BufReader::with_capacity(1 << 20, std::fs::File::open(path).expect("open"));
    let mut n = 0u64;
    loop {
        let buf = reader.fill_buf().expect("read");
        if buf.is_empty() {
            return n;
        }
        n += buf.iter().filter(|b| **b == b'\n').count() as u64;
        let len = buf.len();
        reader.consume(len);
    }
}

fn percentile(sorted: &[f64], q: f64) -> f64 {
    if sorted.is_empty() {
        return f64::NAN;
    }
    let rank = ((q * sorted.len() as f64).ceil() as usize).clamp(1, sorted.len());
    sorted[rank - 1]
}

/// Nearest-rank p50/p99 and the maximum; short series (≤ 1,000) also keep every sample in
/// arrival order, so that outliers can be placed.
fn latency_summary(samples: Vec<f64>) -> Value {
    let mut ms = samples.clone();
    ms.sort_by(f64::total_cmp);
    let mut v = json!({
        "count": ms.len(),
        "p50_ms": percentile(&ms, 0.50),
        "p99_ms": percentile(&ms, 0.99),
        "max_ms": ms.last().copied().unwrap_or(f64::NAN),
    });
    if samples.len() <= 1000 {
        v["samples_ms"] = json!(samples
            .iter()
            .map(|x| (x * 10.0).round() / 10.0)
            .collect::<Vec<f64>>());
    }
    v
}

/// Cold load of `file` into `sinks_kind` (and, for `incremental`, timed batches after it).
fn phase_load(
    p: &Params,
    phase: &str,
    file: &Path,
    sinks_kind: &str,
    increments: Option<(PathBuf, usize)>,
) -> Value {
    let place = SinkPlace::new(sinks_kind, phase);
    let (tx, rx) = mpsc::channel();
    let rows = Arc::new(Mutex::new(BTreeMap::new()));
    let timing = TimingSink {
        tx,
        rows: rows.clone(),
    };
    let (batch_tx, batch_rx) = mpsc::channel::<Vec<RawMessage>>();
    let source = LoadThenBatches {
        file: Some(FileSource::open(file, None, p.load_epoch).expect("open input")),
        batches: batch_rx,
    };
    let load_lines = count_lines(file);
    let bytes = std::fs::metadata(file).expect("input").len();
    let options = engine_options(p);
    let rss_start = proc_bytes("VmRSS:");
    let written_start = written_bytes();
    let started = Instant::now();
    let opened = place.clone();
    let runner = std::thread::spawn(move || {
        let mut sinks = opened.open();
        sinks.push(Box::new(timing));
        trendflow::run::run_into(&options, source, &mut sinks, |_| Ok(())).expect("run");
    });
    // Wait for the load to be committed.
    let mut seen = 0u64;
    let mut load_done = started;
    while seen < load_lines {
        let c = rx.recv().expect("load commits");
        seen += c.events_in;
        load_done = c.done;
    }
    let load_secs = (load_done - started).as_secs_f64();
    let peak_load = proc_bytes("VmHWM:");
    let rss_loaded = proc_bytes("VmRSS:");
    // The state as the engine holds it once idle: within ~0.1 s of the commit it has freed
    // the last epoch's snapshot and its workers have given the freed pages back.
    std::thread::sleep(Duration::from_secs(1));
    let rss_idle = proc_bytes("VmRSS:");
    let written = written_bytes() - written_start;
    let live = rows.lock().map(|r| r.clone()).unwrap_or_default();
    let mut out = json!({
        "phase": phase,
        "sink": sinks_kind,
        "input": file.display().to_string(),
        "events": load_lines,
        "bytes": bytes,
        "seconds": load_secs,
        "events_per_s": load_lines as f64 / load_secs,
        "mb_per_s": bytes as f64 / 1e6 / load_secs,
        "peak_rss_bytes": peak_load,
        "rss_loaded_bytes": rss_loaded,
        "rss_idle_bytes": rss_idle,
        "rss_start_bytes": rss_start,
        "answer_store": p.answer_store,
        "written_bytes": written,
        "live_metric_facts": live.get(&Table::MetricFacts).copied().unwrap_or(0),
        "live_trend_articles": live.get(&Table::TrendArticles).copied().unwrap_or(0),
        "live_trends": live.get(&Table::Trends).copied().unwrap_or(0),
        "brand_daily_groups": live.get(&Table::BrandDailyMetrics).copied().unwrap_or(0),
    });
    if let Some((increments, batches)) = increments {
        // Read one batch at a time: the bench holds no more of its input than the batch in
        // flight, so the settled RSS below is the engine's.
        let mut lines = std::io::BufReader::new(std::fs::File::open(increments).expect("open"))
            .split(b'\n')
            .map(|l| l.expect("read"));
        let mut seq = load_lines;
        let mut latencies = Vec::new();
        let mut events = 0u64;
        for _ in 0..batches {
            let batch: Vec<RawMessage> = lines
                .by_ref()
                .take(p.batch)
                .map(|l| {
                    seq += 1;
                    RawMessage {
                        kind: None,
                        key: None,
                        payload: Some(l),
                        seq: seq - 1,
                        partition: 0,
                        topic: None,
                    }
                })
                .collect();
            if batch.is_empty() {
                break;
            }
            events += batch.len() as u64;
            let sent = Instant::now();
            batch_tx.send(batch).expect("send batch");
            let c = rx.recv().expect("batch commit");
            latencies.push((c.done - sent).as_secs_f64() * 1e3);
            // This thread stands in for the engine's source thread, which gives back the pages
            // of the input it read once the workers freed it (`engine::run`): without this,
            // the freed batches (~10 MB after 20,000 articles) would count as engine state.
            trendflow::memory::release_free_memory();
        }
        // The state as a running service holds it: after the load's epochs of 100,000
        // events, what the allocator kept of them has been reused or returned.
        let settled = rows.lock().map(|r| r.clone()).unwrap_or_default();
        out["incremental"] = json!({
            "batch_events": p.batch,
            "batches": latencies.len(),
            "events": events,
            "epoch_latency": latency_summary(latencies),
            "rss_settled_bytes": proc_bytes("VmRSS:"),
            "live_metric_facts": settled.get(&Table::MetricFacts).copied().unwrap_or(0),
            "live_trend_articles": settled.get(&Table::TrendArticles).copied().unwrap_or(0),
        });
    }
    drop(batch_tx);
    runner.join().expect("runner");
    out["total_seconds"] = json!(started.elapsed().as_secs_f64());
    place.remove();
    out
}

/// Records when each produced message was handed to the producer, by (partition, offset).
struct Deliveries(Arc<Mutex<Vec<(i32, i64, Instant)>>>);

impl ClientContext for Deliveries {}
impl ProducerContext for Deliveries {
    type DeliveryOpaque = Box<Instant>;
    fn delivery(&self, result: &DeliveryResult<'_>, sent: Self::DeliveryOpaque) {
        if let (Ok(m), Ok(mut d)) = (result, self.0.lock()) {
            d.push((m.partition(), m.offset(), *sent));
        }
    }
}

/// Produces at a steady rate to a fresh topic while trendflow runs Kafka → PostgreSQL; each
/// message's freshness is the time from its produce call to the commit of the first snapshot
/// whose stored offsets cover it (rows and offsets commit in one transaction).
fn phase_kafka(p: &Params) -> Value {
    let brokers =
        std::env::var("TRENDFLOW_BENCH_KAFKA").unwrap_or_else(|_| "127.0.0.1:9092".to_string());
    let topic = format!("bench_cr_{}", std::process::id());
    let config = trendflow::sources::kafka::KafkaConfig {
        brokers: brokers.clone(),
        ..Default::default()
    };
    trendflow::produce::ensure_topic(&config, &topic, 4).expect("create topic");
    let lines = file_lines(&kafka_file(p));
    let place = SinkPlace::new("postgres", "kafka");
    let (tx, rx) = mpsc::channel();
    let timing = TimingSink {
        tx,
        rows: Arc::new(Mutex::new(BTreeMap::new())),
    };
    let source = trendflow::sources::kafka::KafkaSource::open(
        trendflow::sources::kafka::KafkaSourceOptions {
            config: config.clone(),
            topics: vec![(topic.clone(), EventKind::CollectorResult)],
            group_id: format!("bench-{}", std::process::id()),
            epoch_interval: Duration::from_millis(p.kafka_epoch_ms),
            epoch_min: Duration::from_millis(p.kafka_epoch_min_ms),
            epoch_events: 100_000,
            until_caught_up: false,
            committed: Vec::new(),
        },
    )
    .expect("kafka source");
    let options = engine_options(p);
    let opened = place.clone();
    let runner = std::thread::spawn(move || {
        let mut sinks = opened.open();
        sinks.push(Box::new(timing));
        trendflow::run::run_into(&options, source, &mut sinks, |_| Ok(())).expect("run");
    });
    let deliveries = Deliveries(Arc::new(Mutex::new(Vec::new())));
    let delivered_log = deliveries.0.clone();
    let producer: ThreadedProducer<Deliveries> = config
        .client_config()
        .set("linger.ms", "5")
        .set("enable.idempotence", "true")
        .create_with_context(deliveries)
        .expect("producer");
    // Steady rate: every 10 ms, the messages due by then.
    let started = Instant::now();
    let mut sent = 0usize;
    while sent < lines.len() {
        let due =
            ((started.elapsed().as_secs_f64() * p.kafka_rate as f64) as usize).min(lines.len());
        while sent < due {
            let line = &lines[sent];
            let key = trendflow::produce::event_key(line).unwrap_or_default();
            let record = BaseRecord::with_opaque_to(&topic, Box::new(Instant::now()))
                .key(key.as_bytes())
                .payload(line.as_slice());
            if let Err((e, _)) = producer.send(record) {
                panic!("produce: {e}");
            }
            sent += 1;
        }
        std::thread::sleep(Duration::from_millis(10));
    }
    let produce_secs = started.elapsed().as_secs_f64();
    producer.flush(Duration::from_secs(60)).expect("flush");
    let delivered = delivered_log.lock().map(|d| d.clone()).unwrap_or_default();
    let mut last_offset: BTreeMap<i32, i64> = BTreeMap::new();
    for (part, off, _) in &delivered {
        let e = last_offset.entry(*part).or_insert(-1);
        *e = (*e).max(*off);
    }
    // Commits until every delivered message is covered.
    let mut commits: Vec<(Instant, BTreeMap<i32, i64>)> = Vec::new();
    let deadline = Instant::now() + Duration::from_secs(120);
    loop {
        let covered = commits.last().is_some_and(|(_, o)| {
            last_offset
                .iter()
                .all(|(part, off)| o.get(part).is_some_and(|n| n > off))
        });
        if covered || Instant::now() > deadline {
            break;
        }
        if let Ok(c) = rx.recv_timeout(Duration::from_secs(1)) {
            let mut offsets = commits.last().map(|(_, o)| o.clone()).unwrap_or_default();
            for (_, part, next) in c.offsets {
                offsets.insert(part, next);
            }
            commits.push((c.done, offsets));
        }
    }
    trendflow::shutdown::request();
    runner.join().expect("runner");
    place.remove();
    let mut latencies = Vec::new();
    let mut missing = 0u64;
    for (part, off, at) in &delivered {
        match commits
            .iter()
            .find(|(_, o)| o.get(part).is_some_and(|n| n > off))
        {
            Some((done, _)) => {
                latencies.push(done.saturating_duration_since(*at).as_secs_f64() * 1e3)
            }
            None => missing += 1,
        }
    }
    json!({
        "phase": "kafka",
        "broker": brokers,
        "topic_partitions": 4,
        "rate_per_s": p.kafka_rate,
        "produced": sent,
        "delivered": delivered.len(),
        "not_visible_within_120s": missing,
        "produce_seconds": produce_secs,
        "achieved_rate_per_s": sent as f64 / produce_secs,
        "epoch_interval_ms": p.kafka_epoch_ms,
        "epoch_min_ms": p.kafka_epoch_min_ms,
        "epochs_committed": commits.len(),
        "freshness": latency_summary(latencies),
        "peak_rss_bytes": proc_bytes("VmHWM:"),
    })
}

/// Runs one baseline script on the load file; its last stdout line is JSON.
fn baseline(name: &str, p: &Params) -> Value {
    let script =
        Path::new(env!("CARGO_MANIFEST_DIR")).join(format!("benches/baselines/{name}_daily.py"));
    let started = Instant::now();
    let out = Command::new("python3")
        .arg(&script)
        .arg(cr_file(p))
        .arg(p.workers.to_string())
        .output();
    let wall = started.elapsed().as_secs_f64();
    match out {
        Ok(o) if o.status.success() => {
            let stdout = String::from_utf8_lossy(&o.stdout);
            let last = stdout.lines().last().unwrap_or_default();
            let mut v: Value = serde_json::from_str(last)
                .unwrap_or_else(|e| json!({"error": format!("bad output {last:?}: {e}")}));
            v["phase"] = json!(name);
            v["process_seconds"] = json!(wall);
            v
        }
        Ok(o) => {
            json!({"phase": name, "error": format!("exit {}: {}", o.status, String::from_utf8_lossy(&o.stderr).lines().rev().take(5).collect::<Vec<_>>().join(" | "))})
        }
        Err(e) => json!({"phase": name, "error": format!("python3: {e}")}),
    }
}

fn run_phase(p: &Params, phase: &str) -> Value {
    let mut v = match phase {
        "cold-none" => phase_load(p, phase, &cr_file(p), "none", None),
        "cold-postgres" => phase_load(p, phase, &cr_file(p), "postgres", None),
        "cold-parquet" => phase_load(p, phase, &cr_file(p), "parquet", None),
        "incremental-none" => phase_load(
            p,
            phase,
            &cr_file(p),
            "none",
            Some((inc_file(p), p.batches)),
        ),
        "incremental-postgres" => phase_load(
            p,
            phase,
            &cr_file(p),
            "postgres",
            Some((inc_file(p), p.batches)),
        ),
        "articles" => phase_load(
            p,
            phase,
            &articles_file(p),
            "none",
            Some((articles_inc_file(p), p.article_batches)),
        ),
        "kafka" => phase_kafka(p),
        other => panic!("unknown phase {other}; phases are {ALL_PHASES}"),
    };
    v["workers"] = json!(p.workers);
    v
}

/// Runs a phase in a child process of this binary and returns its `RESULT` JSON.
fn child(p: &Params, phase: &str) -> Value {
    let exe = std::env::current_exe().expect("current exe");
    let mut cmd = Command::new(exe);
    cmd.arg(format!("--phase={phase}")).args(p.to_args());
    if !p.smoke {
        cmd.arg("--bench");
    }
    let started = Instant::now();
    let out = cmd.output().expect("run phase");
    let stdout = String::from_utf8_lossy(&out.stdout);
    let result = stdout.lines().find_map(|l| l.strip_prefix("RESULT "));
    match (out.status.success(), result) {
        (true, Some(r)) => serde_json::from_str(r).expect("phase JSON"),
        _ => {
            let err = String::from_utf8_lossy(&out.stderr);
            let tail: Vec<&str> = err.lines().rev().take(8).collect();
            let v = json!({"phase": phase, "error": format!("exit {} after {:.1} s: {}", out.status, started.elapsed().as_secs_f64(), tail.into_iter().rev().collect::<Vec<_>>().join(" | "))});
            if p.smoke {
                panic!("smoke phase {phase} failed: {v}");
            }
            v
        }
    }
}

fn machine() -> Value {
    let read = |p: &str| std::fs::read_to_string(p).unwrap_or_default();
    let cpu = read("/proc/cpuinfo")
        .lines()
        .find(|l| l.starts_with("model name"))
        .and_then(|l| l.split(':').nth(1))
        .map(|s| s.trim().to_string())
        .unwrap_or_default();
    let mem_kb: u64 = read("/proc/meminfo")
        .lines()
        .find(|l| l.starts_with("MemTotal:"))
        .and_then(|l| l.split_whitespace().nth(1))
        .and_then(|s| s.parse().ok())
        .unwrap_or(0);
    let commit = Command::new("git")
        .args(["rev-parse", "--short", "HEAD"])
        .output()
        .ok()
        .map(|o| String::from_utf8_lossy(&o.stdout).trim().to_string())
        .unwrap_or_default();
    json!({
        "cores": std::thread::available_parallelism().map(|n| n.get()).unwrap_or(0),
        "cpu": cpu,
        "memory_gib": mem_kb as f64 / 1024.0 / 1024.0,
        "loadavg": read("/proc/loadavg").trim(),
        "commit": commit,
        "date_utc": chrono::Utc::now().to_rfc3339(),
    })
}

fn get<'a>(results: &'a BTreeMap<String, Value>, phase: &str) -> Option<&'a Value> {
    results.get(phase).filter(|v| v.get("error").is_none())
}

fn f(v: Option<&Value>, path: &[&str]) -> Option<f64> {
    let mut cur = v?;
    for k in path {
        cur = cur.get(*k)?;
    }
    cur.as_f64()
}

fn fmt(x: Option<f64>, digits: usize) -> String {
    x.filter(|x| x.is_finite())
        .map_or("—".to_string(), |x| format!("{x:.digits$}"))
}

/// The Markdown table of the README, with ratios to the baselines.
fn table(results: &BTreeMap<String, Value>) -> String {
    let mut s = String::new();
    let none = get(results, "cold-none");
    let duck = get(results, "duckdb");
    let path = get(results, "pathway");
    let eps = |v: Option<&Value>| f(v, &["events_per_s"]);
    let mib = |v: Option<&Value>| f(v, &["peak_rss_bytes"]).map(|b| b / 1048576.0);
    s.push_str("| measure | trendflow | DuckDB (batch) | Pathway | target | trendflow ÷ DuckDB | trendflow ÷ Pathway |\n|---|---|---|---|---|---|---|\n");
    let ratio = |a: Option<f64>, b: Option<f64>| match (a, b) {
        (Some(a), Some(b)) if b > 0.0 => format!("{:.3}×", a / b),
        _ => "—".into(),
    };
    s.push_str(&format!(
        "| cold load 1M collector results, no sink: events/s | {} | {} | {} | ≥ ½ DuckDB, ≥ 10× Pathway | {} | {} |\n",
        fmt(eps(none), 0), fmt(eps(duck), 0), fmt(eps(path), 0), ratio(eps(none), eps(duck)), ratio(eps(none), eps(path))
    ));
    s.push_str(&format!(
        "| cold load: seconds (MB/s of JSON) | {} ({}) | {} ({}) | {} ({}) | | | |\n",
        fmt(f(none, &["seconds"]), 1),
        fmt(f(none, &["mb_per_s"]), 0),
        fmt(f(duck, &["seconds"]), 2),
        fmt(f(duck, &["mb_per_s"]), 0),
        fmt(f(path, &["seconds"]), 1),
        fmt(f(path, &["mb_per_s"]), 0),
    ));
    s.push_str(&format!(
        "| cold load: peak RSS MiB | {} | {} | {} | | | |\n",
        fmt(mib(none), 0),
        fmt(mib(duck), 0),
        fmt(mib(path), 0)
    ));
    for (phase, label) in [
        ("cold-postgres", "cold load into PostgreSQL"),
        ("cold-parquet", "cold load into Parquet"),
    ] {
        let v = get(results, phase);
        s.push_str(&format!(
            "| {label}: events/s (s, peak MiB) | {} ({} s, {}) | | | | {} | |\n",
            fmt(eps(v), 0),
            fmt(f(v, &["seconds"]), 1),
            fmt(mib(v), 0),
            ratio(eps(v), eps(duck))
        ));
    }
    let duck_ms = f(duck, &["seconds"]).map(|s| s * 1e3);
    for (phase, label, target) in [
        (
            "incremental-none",
            "1,000-event epoch on the 1M state, no sink",
            "p99 < 50 ms",
        ),
        (
            "incremental-postgres",
            "1,000-event epoch, committed in PostgreSQL",
            "p99 < 250 ms",
        ),
    ] {
        let v = get(results, phase);
        let p50 = f(v, &["incremental", "epoch_latency", "p50_ms"]);
        let p99 = f(v, &["incremental", "epoch_latency", "p99_ms"]);
        s.push_str(&format!(
            "| {label}: p50 / p99 ms | {} / {} | {} (full recompute) | | {target} | recompute ÷ p99: {} | |\n",
            fmt(p50, 1), fmt(p99, 1), fmt(duck_ms, 0), ratio(duck_ms, p99)
        ));
    }
    let art = get(results, "articles");
    s.push_str(&format!(
        "| articles through dedup + trends: articles/s ({} articles, {} s) | {} | | | ≥ 20,000 | | |\n",
        fmt(f(art, &["events"]), 0), fmt(f(art, &["seconds"]), 1), fmt(eps(art), 0)
    ));
    let k = get(results, "kafka");
    s.push_str(&format!(
        "| Kafka → PostgreSQL freshness at {} events/s: p50 / p99 ms | {} / {} | | | p99 < 2,000 | | |\n",
        fmt(f(k, &["achieved_rate_per_s"]), 0),
        fmt(f(k, &["freshness", "p50_ms"]), 0), fmt(f(k, &["freshness", "p99_ms"]), 0)
    ));
    let per = |v: Option<&Value>, rss: &str, live: &str| -> Option<f64> {
        let loaded = f(v, &[rss])?;
        let start = f(v, &["rss_start_bytes"])?;
        let n = f(v, &[live])?;
        (n > 0.0).then(|| (loaded - start) / n)
    };
    // The state after a load (the engine idle), then at the load's last commit: that also
    // holds the epoch's snapshot and the pages not yet given back.
    let after_load = |v: Option<&Value>, what: &str, live: &str, target: &str| {
        format!(
            "| state per {what} after the load: bytes (RSS 1 s after its last commit, idle − before, ÷ {}) | {} | | | {target} | | |\n| at the load's last commit | {} | | | | | |\n",
            fmt(f(v, &[live]), 0),
            fmt(per(v, "rss_idle_bytes", live), 0),
            fmt(per(v, "rss_loaded_bytes", live), 0)
        )
    };
    s.push_str(&after_load(
        none,
        "live metric fact",
        "live_metric_facts",
        "< 300",
    ));
    let inc = get(results, "incremental-none");
    let settled_per = |v: Option<&Value>, live: &str| -> Option<f64> {
        let rss = f(v, &["incremental", "rss_settled_bytes"])?;
        let start = f(v, &["rss_start_bytes"])?;
        let n = f(v, &["incremental", live])?;
        (n > 0.0).then(|| (rss - start) / n)
    };
    let settled = settled_per(inc, "live_metric_facts");
    s.push_str(&format!(
        "| state per live metric fact, settled: bytes (RSS after the 1,000-event epochs − before, ÷ {} facts) | {} | | | < 300 | | |\n",
        fmt(f(inc, &["incremental", "live_metric_facts"]), 0), fmt(settled, 0)
    ));
    s.push_str(&after_load(
        art,
        "live article",
        "live_trend_articles",
        "< 1,024",
    ));
    s.push_str(&format!(
        "| state per live article, settled: bytes (RSS after {} epochs of {} next-day articles − before, ÷ {} live articles; epoch p99 {} ms) | {} | | | < 1,024 | | |\n",
        fmt(f(art, &["incremental", "batches"]), 0),
        fmt(f(art, &["incremental", "batch_events"]), 0),
        fmt(f(art, &["incremental", "live_trend_articles"]), 0),
        fmt(f(art, &["incremental", "epoch_latency", "p99_ms"]), 1),
        fmt(settled_per(art, "live_trend_articles"), 0)
    ));
    s
}

fn main() {
    let smoke = !std::env::args().any(|a| a == "--bench");
    let p = Params::from_env(smoke);
    if let Some(phase) =
        std::env::args().find_map(|a| a.strip_prefix("--phase=").map(str::to_string))
    {
        let v = run_phase(&p, &phase);
        println!("RESULT {v}");
        return;
    }
    let started = Instant::now();
    eprintln!(
        "e2e: generating the workload ({} collector results + {}×{} increments, {} articles)",
        p.events, p.batches, p.batch, p.articles
    );
    generate_workload(&p);
    let mut results: BTreeMap<String, Value> = BTreeMap::new();
    for phase in &p.phases {
        eprintln!("e2e: {phase} …");
        let t = Instant::now();
        let v = match phase.as_str() {
            "duckdb" | "pathway" => baseline(phase, &p),
            _ => child(&p, phase),
        };
        eprintln!(
            "e2e: {phase} done in {:.1} s: {v}",
            t.elapsed().as_secs_f64()
        );
        results.insert(phase.clone(), v);
    }
    let table = table(&results);
    println!("{table}");
    if smoke {
        return;
    }
    let report = json!({
        "command": format!("cargo bench --bench e2e -- {}", std::env::args().skip(1).filter(|a| a != "--bench").collect::<Vec<_>>().join(" ")),
        "machine": machine(),
        "params": {
            "events": p.events, "batches": p.batches, "batch": p.batch, "articles": p.articles, "article_batches": p.article_batches,
            "kafka_rate": p.kafka_rate, "kafka_secs": p.kafka_secs, "kafka_epoch_ms": p.kafka_epoch_ms, "kafka_epoch_min_ms": p.kafka_epoch_min_ms,
            "workers": p.workers,
        },
        "results": results,
        "table_markdown": table,
        "seconds": started.elapsed().as_secs_f64(),
    });
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("target/bench-results");
    std::fs::create_dir_all(&dir).expect("results dir");
    let path = dir.join("e2e.json");
    let mut f = std::fs::File::create(&path).expect("results file");
    writeln!(
        f,
        "{}",
        serde_json::to_string_pretty(&report).expect("json")
    )
    .expect("write");
    eprintln!("e2e: results in {}", path.display());
}
