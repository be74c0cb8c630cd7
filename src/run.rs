//! `trendflow run`: wires a source, the engine and the chosen sinks, and prints the summary.

use std::collections::BTreeMap;
use std::io::{BufRead, BufReader, IsTerminal};
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use dataflows::decode::Decoder;
use dataflows::event::{Event, EventKind};
use dataflows::metrics::{DailyAgg, DailyKey};
use dataflows::output::{Row, RowKey, Table};
use dataflows::trends::TrendRow;

use crate::cli::{AnswerStoreKind, ClusterArgs, InputKind, RunArgs, SinkKind};
use crate::engine::{self, AnswerStore, EngineOptions};
use crate::sinks::memory::MemorySink;
use crate::sinks::sql::SqlSink;
use crate::sinks::{Sink, SinkError};
use crate::snapshot::Snapshot;
use crate::sources::file::FileSource;
use crate::telemetry::Telemetry;

pub fn input_kind(kind: InputKind) -> Option<EventKind> {
    match kind {
        InputKind::Mixed => None,
        InputKind::Article => Some(EventKind::Article),
        InputKind::CollectorResult => Some(EventKind::CollectorResult),
    }
}

/// Where the admin endpoints listen unless `--admin-addr` says otherwise.
pub const DEFAULT_ADMIN_ADDR: std::net::SocketAddr =
    std::net::SocketAddr::new(std::net::IpAddr::V4(std::net::Ipv4Addr::LOCALHOST), 9464);

/// The sample events bundled with the binary, read by `trendflow run` when no input is given.
const SAMPLE_EVENTS: &[u8] = include_bytes!("../samples/events.jsonl");

/// Where a run's events come from and where its rows go, resolved from the flags.
struct Plan {
    input: PathBuf,
    bundled_sample: bool,
    sinks: Vec<SinkKind>,
    sqlite_path: PathBuf,
    parquet_dir: PathBuf,
}

fn plan(args: &RunArgs) -> Result<Plan, String> {
    let sqlite_path = args
        .sqlite_path
        .clone()
        .unwrap_or_else(|| args.data_dir.join("trendflow.db"));
    let parquet_dir = args
        .parquet_dir
        .clone()
        .unwrap_or_else(|| args.data_dir.join("exports"));
    let sinks = match &args.sinks {
        Some(list) => {
            let mut list = list.clone();
            if list.len() > 1 && list.contains(&SinkKind::None) {
                return Err("--sinks: `none` cannot be combined with other sinks".into());
            }
            list.retain(|k| *k != SinkKind::None);
            list.dedup();
            list
        }
        None if args.postgres_url.is_some() => {
            let mut l = vec![SinkKind::Postgres];
            if args.parquet_dir.is_some() {
                l.push(SinkKind::Parquet);
            }
            l
        }
        None => vec![SinkKind::Sqlite, SinkKind::Parquet],
    };
    if sinks.contains(&SinkKind::Postgres) && args.postgres_url.is_none() {
        return Err("--sinks postgres needs --postgres-url URL (or TRENDFLOW_POSTGRES_URL)".into());
    }
    let (input, bundled_sample) = match &args.input {
        _ if args.kafka.kafka_brokers.is_some() => {
            if args.input.is_some() {
                return Err("--input and --kafka-brokers: choose one input".into());
            }
            (
                PathBuf::from(args.kafka.kafka_brokers.clone().unwrap_or_default()),
                false,
            )
        }
        Some(path) => (path.clone(), false),
        None => {
            std::fs::create_dir_all(&args.data_dir)
                .map_err(|e| format!("--data-dir {}: {e}", args.data_dir.display()))?;
            let path = args.data_dir.join("sample-events.jsonl");
            std::fs::write(&path, SAMPLE_EVENTS)
                .map_err(|e| format!("writing {}: {e}", path.display()))?;
            (path, true)
        }
    };
    Ok(Plan {
        input,
        bundled_sample,
        sinks,
        sqlite_path,
        parquet_dir,
    })
}

/// Opens the configured sinks. SQL sinks replace their rows at the first commit when `reset`
/// (a file run) or when they hold no source offsets (nothing to resume from).
fn open_sinks(args: &RunArgs, plan: &Plan, reset: bool) -> Result<Vec<Box<dyn Sink>>, String> {
    let mut sinks: Vec<Box<dyn Sink>> = Vec::new();
    for kind in &plan.sinks {
        let mut sql = match kind {
            SinkKind::None => continue,
            SinkKind::Parquet => {
                sinks.push(open_parquet(args, &plan.parquet_dir)?);
                continue;
            }
            SinkKind::Sqlite => SqlSink::sqlite(&plan.sqlite_path),
            SinkKind::Postgres => {
                SqlSink::postgres(args.postgres_url.as_deref().unwrap_or_default())
            }
        }
        .map_err(|e| e.to_string())?;
        if reset || sql.stored_offsets().is_empty() {
            sql.reset_on_next_commit();
        }
        sinks.push(Box::new(sql));
    }
    Ok(sinks)
}

fn open_parquet(args: &RunArgs, dir: &Path) -> Result<Box<dyn Sink>, String> {
    use crate::sinks::parquet::{ParquetOptions, ParquetSink};
    if !(args.parquet_every.is_finite() && args.parquet_every >= 0.0) {
        return Err(format!(
            "--parquet-every: {} is not a number of seconds >= 0",
            args.parquet_every
        ));
    }
    let options = ParquetOptions {
        keep: args.parquet_keep,
        every: Duration::from_secs_f64(args.parquet_every),
        ..ParquetOptions::default()
    };
    Ok(Box::new(
        ParquetSink::open(dir, options).map_err(|e| e.to_string())?,
    ))
}

/// Commits to one sink, retrying retryable failures with exponential backoff (up to 5 min).
fn commit_with_retry(
    sink: &mut dyn Sink,
    snapshot: &Snapshot,
    telemetry: Option<&Telemetry>,
) -> Result<(), SinkError> {
    let started = Instant::now();
    let mut delay = Duration::from_millis(100);
    loop {
        match sink.commit(snapshot) {
            Ok(()) => return Ok(()),
            Err(e) if e.retryable && started.elapsed() < Duration::from_secs(300) => {
                tracing::warn!(
                    sink = sink.name(),
                    epoch = snapshot.epoch,
                    retry_in_ms = delay.as_millis() as u64,
                    "commit failed, retrying: {}",
                    e.message
                );
                if let Some(t) = telemetry {
                    t.sink_retry(sink.name(), &e.message);
                }
                std::thread::sleep(delay);
                delay = (delay * 2).min(Duration::from_secs(10));
            }
            Err(e) => return Err(e),
        }
    }
}

/// Runs `source` through the graph and commits every snapshot to every sink, in order, after
/// `observe` has seen it. Epochs are numbered after the newest epoch any sink holds, so that
/// all sinks agree on which epoch is which. Returns the run's totals and its last epoch.
pub fn run_into<S: crate::sources::Source + 'static>(
    options: &EngineOptions,
    source: S,
    sinks: &mut [Box<dyn Sink>],
    observe: impl FnMut(&Snapshot) -> Result<(), SinkError>,
) -> Result<(engine::RunStats, u64), String> {
    run_into_with(options, source, sinks, None, observe)
}

/// [`run_into`], also reporting to `telemetry` (for the admin endpoints).
pub fn run_into_with<S: crate::sources::Source + 'static>(
    options: &EngineOptions,
    source: S,
    sinks: &mut [Box<dyn Sink>],
    telemetry: Option<&Telemetry>,
    mut observe: impl FnMut(&Snapshot) -> Result<(), SinkError>,
) -> Result<(engine::RunStats, u64), String> {
    let base_epoch = sinks.iter().map(|s| s.last_epoch()).max().unwrap_or(0);
    let mut last_epoch = base_epoch;
    let stats = engine::run(options, source, |snapshot| -> Result<(), SinkError> {
        if snapshot.replay {
            // Rebuilt state the sinks already hold: not committed, not numbered.
            snapshot.epoch = last_epoch;
            observe(snapshot)?;
            for sink in sinks.iter_mut() {
                sink.restore(snapshot)?;
            }
            if let Some(t) = telemetry {
                t.replayed(snapshot);
            }
            return Ok(());
        }
        snapshot.epoch = last_epoch + 1;
        observe(snapshot)?;
        let started = Instant::now();
        for sink in sinks.iter_mut() {
            commit_with_retry(sink.as_mut(), snapshot, telemetry)?;
        }
        if let Some(t) = telemetry {
            t.committed(snapshot, started.elapsed());
        }
        last_epoch = snapshot.epoch;
        tracing::debug!(
            epoch = snapshot.epoch,
            events = snapshot.events_in,
            rows_changed = ?snapshot.rows_changed(),
            "snapshot committed"
        );
        Ok(())
    })
    .map_err(|e| e.to_string())?;
    for sink in sinks.iter_mut() {
        sink.finish().map_err(|e| e.to_string())?;
    }
    Ok((stats, last_epoch))
}

/// The tables the closing summary reads, kept as the run goes.
#[derive(Default)]
struct SummaryTables {
    trends: BTreeMap<RowKey, TrendRow>,
    brand_daily: BTreeMap<RowKey, (DailyKey, DailyAgg)>,
}

impl SummaryTables {
    fn apply(&mut self, snapshot: &Snapshot) {
        for (table, changes) in &snapshot.tables {
            match table {
                Table::Trends => {
                    for k in &changes.deletes {
                        self.trends.remove(k);
                    }
                    for r in &changes.upserts {
                        if let Row::Trend(t) = r {
                            self.trends.insert(r.key(), t.clone());
                        }
                    }
                }
                Table::BrandDailyMetrics => {
                    for k in &changes.deletes {
                        self.brand_daily.remove(k);
                    }
                    for r in &changes.upserts {
                        if let Row::Daily(k, a) = r {
                            self.brand_daily
                                .insert(r.key(), (k.clone(), DailyAgg::clone(a)));
                        }
                    }
                }
                _ => {}
            }
        }
    }

    fn print(&self) {
        let mut trends: Vec<&TrendRow> = self.trends.values().collect();
        trends.sort_by(|a, b| {
            (b.article_count, b.story_count, &a.trend_id).cmp(&(
                a.article_count,
                a.story_count,
                &b.trend_id,
            ))
        });
        if !trends.is_empty() {
            println!("  top trends (of {}):", trends.len());
            for t in trends.iter().take(5) {
                println!(
                    "    {:>4} articles {:>3} stories {:>3} sources  {}",
                    t.article_count,
                    t.story_count,
                    t.source_count,
                    clip(&t.headline, 70)
                );
            }
        }
        // (customer, brand) → (answers, visibility sum, mentions)
        let mut brands: BTreeMap<(&str, &str), (i64, i64, i64)> = BTreeMap::new();
        for (k, a) in self.brand_daily.values() {
            let e = brands.entry((&*k.customer_id, &*k.brand_id)).or_default();
            e.0 += a.answers;
            e.1 += a.visibility_sum;
            e.2 += a.mentions;
        }
        let mut brands: Vec<_> = brands
            .into_iter()
            .filter(|(_, (n, _, _))| *n >= 10)
            .map(|(k, (n, vis, m))| (vis as f64 / n as f64 / 1e6, k, n, m))
            .collect();
        brands.sort_by(|a, b| b.0.total_cmp(&a.0).then(a.1.cmp(&b.1)));
        if !brands.is_empty() {
            println!(
                "  top brands by average visibility ({} brands with at least 10 answers):",
                brands.len()
            );
            for (vis, (customer, brand), answers, mentions) in brands.iter().take(5) {
                println!(
                    "    {vis:>6.3} visibility {answers:>6} answers {mentions:>6} mentions  {brand} ({customer})"
                );
            }
        }
    }
}

fn clip(s: &str, n: usize) -> String {
    if s.chars().count() <= n {
        s.to_string()
    } else {
        format!("{}…", s.chars().take(n - 1).collect::<String>())
    }
}

/// `trendflow run`: events from a file (or the bundled sample) through the graph into the sinks.
pub fn run(args: &RunArgs) -> Result<(), String> {
    let trends = args.trends.config()?;
    let plan = plan(args)?;
    let input = plan.input.as_path();
    let decoder = Decoder::new(args.max_payload as usize);
    let options = EngineOptions {
        workers: usize::from(args.workers),
        decoder: decoder.clone(),
        max_epochs_in_flight: 2,
        graph: dataflows::graph::GraphConfig { trends },
        answers: match args.answer_store {
            AnswerStoreKind::Memory => AnswerStore::Memory,
            AnswerStoreKind::Disk => AnswerStore::Disk(
                args.spill_dir
                    .clone()
                    .unwrap_or_else(|| args.data_dir.join("spill")),
            ),
        },
    };
    let kind = input_kind(args.kind);
    // A file run recomputes everything, so its first snapshot replaces the old rows; a Kafka
    // run resumes from the offsets stored with the last snapshot, or, when a database holds
    // none, starts from nothing and replaces its rows too (the graph's state and the tables
    // must agree: sinks write new keys as plain inserts).
    let kafka = args.kafka.kafka_brokers.is_some();
    let mut sinks = open_sinks(args, &plan, !kafka)?;
    let mut dlq = None;
    let source: Box<dyn crate::sources::Source> = if kafka {
        let topics = vec![
            (args.articles_topic.clone(), EventKind::Article),
            (
                args.collector_results_topic.clone(),
                EventKind::CollectorResult,
            ),
        ];
        let committed = sinks
            .iter()
            .map(|s| s.stored_offsets())
            .find(|o| !o.is_empty())
            .unwrap_or_default();
        let config = args.kafka.config();
        dlq = Some(crate::produce::DeadLetterTopics::new(
            &config,
            &topics.iter().map(|(t, _)| t.clone()).collect::<Vec<_>>(),
        )?);
        Box::new(
            crate::sources::kafka::KafkaSource::open(crate::sources::kafka::KafkaSourceOptions {
                config,
                topics,
                group_id: args.group_id.clone(),
                epoch_interval: Duration::from_millis(args.epoch_interval_ms),
                epoch_min: Duration::from_millis(args.epoch_min_ms),
                epoch_events: args.epoch_events as usize,
                until_caught_up: args.once,
                committed,
            })
            .map_err(|e| e.to_string())?,
        )
    } else {
        let file = FileSource::open(input, kind, args.epoch_events as usize)
            .map_err(|e| format!("--input {}: {e}", input.display()))?;
        // A file given without --once is followed for appended lines, like `tail -f`.
        if args.once || plan.bundled_sample {
            Box::new(file)
        } else {
            Box::new(file.follow())
        }
    };
    let telemetry = std::sync::Arc::new(Telemetry::default());
    telemetry.set_sinks(sinks.iter().map(|s| s.name()).collect());
    let admin_addr = args.admin_addr.unwrap_or(DEFAULT_ADMIN_ADDR);
    match crate::admin::serve(admin_addr, telemetry.clone()) {
        Ok(_) => {}
        Err(e) if args.admin_addr.is_none() => {
            tracing::warn!("admin endpoints off: {e} (choose another with --admin-addr)");
        }
        Err(e) => return Err(e),
    }
    let mut row_counts: BTreeMap<Table, i64> = BTreeMap::new();
    let mut memory = args.verify.then(MemorySink::default);
    let mut summary = SummaryTables::default();
    let terminal = std::io::stderr().is_terminal();
    let mut last_progress = Instant::now();
    let started = Instant::now();
    let mut events_so_far = 0u64;
    let (stats, last_epoch) =
        run_into_with(&options, source, &mut sinks, Some(&telemetry), |snapshot| {
            for (table, delta) in &snapshot.row_delta {
                *row_counts.entry(*table).or_insert(0) += delta;
            }
            summary.apply(snapshot);
            if let Some(m) = memory.as_mut() {
                m.commit(snapshot)?;
            }
            if let (Some(dlq), false) = (&dlq, snapshot.replay) {
                // Dead letters reach their topic before the snapshot commits: a crash in between
                // may publish a letter twice, never lose one.
                dlq.send(&snapshot.dead_letters)
                    .map_err(|message| SinkError {
                        sink: "kafka-dlq",
                        message,
                        retryable: true,
                    })?;
            }
            for d in snapshot.dead_letters.iter().take(3) {
                tracing::warn!(
                    origin = %d.origin,
                    line = d.offset,
                    field = %d.field,
                    reason = d.reason,
                    key = ?d.key.as_deref().map(String::from_utf8_lossy),
                    bytes = d.payload.as_ref().map_or(0, Vec::len),
                    "event rejected: {}",
                    d.error
                );
            }
            events_so_far += snapshot.events_in;
            if last_progress.elapsed() >= Duration::from_secs(if terminal { 1 } else { 10 }) {
                last_progress = Instant::now();
                let rate = events_so_far as f64 / started.elapsed().as_secs_f64().max(1e-9);
                tracing::info!(
                    epoch = snapshot.epoch,
                    "run: {events_so_far} events committed ({rate:.0} events/s)"
                );
            }
            Ok(())
        })?;

    let secs = stats.elapsed.as_secs_f64();
    if plan.bundled_sample {
        println!("trendflow run: the bundled sample events (no --input, no Kafka configured)");
    } else if kafka {
        println!(
            "trendflow run: Kafka {} (topics {}, {})",
            input.display(),
            args.articles_topic,
            args.collector_results_topic
        );
    } else {
        println!("trendflow run: {}", input.display());
    }
    println!(
        "  events read {:>12}   rejected {:>8}   epochs {:>6}   {:.2} s   {:.0} events/s",
        stats.events_in,
        stats.rejected,
        stats.epochs,
        secs,
        stats.events_in as f64 / secs.max(1e-9)
    );
    let mut reasons: Vec<_> = stats.rejected_by_reason.iter().collect();
    reasons.sort();
    for (reason, n) in reasons {
        println!("    rejected ({reason}) {n}");
    }
    println!("  rows per table:");
    for table in Table::ALL {
        println!(
            "    {:<26} {:>10}",
            table.name(),
            row_counts.get(&table).copied().unwrap_or(0)
        );
    }
    summary.print();
    print_outputs(args, &plan, last_epoch);
    if let Some(memory) = memory {
        verify(
            input,
            kind,
            decoder,
            &memory,
            &row_counts,
            options.graph.trends,
        )?;
    }
    Ok(())
}

/// Tells the user where the outputs are and how to query them.
fn print_outputs(args: &RunArgs, plan: &Plan, last_epoch: u64) {
    if plan.sinks.is_empty() {
        println!("  outputs: none (--sinks none)");
        return;
    }
    println!("  outputs (snapshot epoch {last_epoch}):");
    for kind in &plan.sinks {
        match kind {
            SinkKind::Sqlite => {
                let db = plan.sqlite_path.display();
                println!("    SQLite   {db}");
                println!(
                    "             sqlite3 {db} 'SELECT headline, article_count FROM trends ORDER BY article_count DESC LIMIT 5'"
                );
            }
            SinkKind::Parquet => {
                let dir = plan.parquet_dir.display();
                println!(
                    "    Parquet  {dir}/<table>/epoch=*/...  (latest snapshot: {dir}/_latest.json)"
                );
                println!(
                    "             duckdb -c \"SELECT count(*) FROM read_parquet('{dir}/metric_facts/epoch={last_epoch}/**/*.parquet', hive_partitioning=true)\""
                );
            }
            SinkKind::Postgres => {
                let url = args
                    .postgres_url
                    .as_deref()
                    .map(redact_url)
                    .unwrap_or_default();
                println!("    PostgreSQL {url}  (table snapshots: one row per committed epoch)");
            }
            SinkKind::None => {}
        }
    }
}

/// A connection URL with its password replaced, for printing.
pub fn redact_url(url: &str) -> String {
    match (url.find("://"), url.rfind('@')) {
        (Some(scheme), Some(at)) if at > scheme => {
            let userinfo = &url[scheme + 3..at];
            match userinfo.find(':') {
                Some(colon) => format!(
                    "{}{}:***{}",
                    &url[..scheme + 3],
                    &userinfo[..colon],
                    &url[at..]
                ),
                None => url.to_string(),
            }
        }
        _ => url.to_string(),
    }
}

/// The oracle's rows for a JSON-lines file: every table except the history tables
/// (`trend_aliases`, `archived_trends`), which depend on epoch boundaries.
pub fn oracle_rows(
    input: &Path,
    kind: Option<EventKind>,
    mut decoder: Decoder,
    trends: dataflows::trends::TrendConfig,
) -> Result<BTreeMap<Row, i64>, String> {
    let file =
        std::fs::File::open(input).map_err(|e| format!("--input {}: {e}", input.display()))?;
    let mut events: Vec<Event> = Vec::new();
    for (line_no, line) in BufReader::new(file).split(b'\n').enumerate() {
        let mut line = line.map_err(|e| e.to_string())?;
        while matches!(line.last(), Some(b'\r')) {
            line.pop();
        }
        if line.iter().all(u8::is_ascii_whitespace) {
            continue;
        }
        if let Ok(e) = decoder.decode_any(kind, None, Some(&line), line_no as u64) {
            events.push(e);
        }
    }
    let mut expected = dataflows::oracle::metrics_tables(&events);
    expected.extend(dataflows::oracle::trend_tables(&events, trends));
    Ok(expected)
}

/// Recomputes every table with the sequential oracle and compares it with what was committed.
fn verify(
    input: &Path,
    kind: Option<EventKind>,
    decoder: Decoder,
    committed: &MemorySink,
    row_counts: &BTreeMap<Table, i64>,
    trends: dataflows::trends::TrendConfig,
) -> Result<(), String> {
    let expected = oracle_rows(input, kind, decoder, trends)?;
    let actual: BTreeMap<Row, i64> = committed
        .rows()
        .filter(|r| !r.table().is_history())
        .map(|r| (r.clone(), 1))
        .collect();
    let mut expected_counts: BTreeMap<Table, i64> = BTreeMap::new();
    for (row, n) in &expected {
        *expected_counts.entry(row.table()).or_insert(0) += n;
    }
    let counts_match = Table::ALL.iter().filter(|t| !t.is_history()).all(|t| {
        row_counts.get(t).copied().unwrap_or(0) == expected_counts.get(t).copied().unwrap_or(0)
    });
    if expected == actual && counts_match {
        println!(
            "  verify: OK, {} rows in {} tables equal the sequential oracle's",
            actual.len(),
            Table::ALL.iter().filter(|t| !t.is_history()).count()
        );
        Ok(())
    } else {
        let missing = expected.keys().filter(|r| !actual.contains_key(*r)).count();
        let extra = actual.keys().filter(|r| !expected.contains_key(*r)).count();
        Err(format!(
            "verify FAILED: {missing} oracle rows missing, {extra} unexpected rows; counts {row_counts:?} vs oracle {expected_counts:?}"
        ))
    }
}

/// Runs an articles file through the graph and returns the committed tables.
fn run_articles(args: &ClusterArgs) -> Result<(MemorySink, engine::RunStats), String> {
    let options = EngineOptions {
        workers: usize::from(args.workers),
        decoder: Decoder::default(),
        max_epochs_in_flight: 2,
        graph: dataflows::graph::GraphConfig {
            trends: args.trends.config()?,
        },
        answers: AnswerStore::Memory,
    };
    let source = FileSource::open(
        &args.input,
        Some(EventKind::Article),
        args.epoch_events as usize,
    )
    .map_err(|e| format!("--input {}: {e}", args.input.display()))?;
    let mut memory = MemorySink::default();
    let stats = engine::run(&options, source, |snapshot| memory.commit(snapshot))
        .map_err(|e| e.to_string())?;
    if stats.rejected > 0 {
        eprintln!(
            "warning: {} of {} lines rejected",
            stats.rejected, stats.events_in
        );
    }
    Ok((memory, stats))
}

/// `(source, external_id) → trend_id` of every live article.
fn memberships(memory: &MemorySink) -> BTreeMap<(String, String), String> {
    memory
        .rows()
        .filter_map(|r| match r {
            Row::TrendArticle(a) => Some((
                (a.source.clone(), a.external_id.clone()),
                a.trend_id.clone(),
            )),
            _ => None,
        })
        .collect()
}

/// `trendflow cluster`: one line per article, `external_id<TAB>trend_id`.
pub fn cluster(args: &ClusterArgs) -> Result<(), String> {
    use std::io::Write;
    let (memory, _) = run_articles(args)?;
    let stdout = std::io::stdout();
    let mut out = std::io::BufWriter::new(stdout.lock());
    for ((_, external_id), trend) in memberships(&memory) {
        writeln!(out, "{external_id}\t{trend}").map_err(|e| e.to_string())?;
    }
    out.flush().map_err(|e| e.to_string())
}

/// Headline pairs drawn for `eval`'s edge rates when there are more pairs than this.
const EDGE_RATE_SAMPLES: u64 = 1_000_000;

/// `trendflow eval`: clustering quality against the `story_id` labels of the input.
pub fn eval(args: &ClusterArgs) -> Result<(), String> {
    #[derive(serde::Deserialize)]
    struct Labelled {
        source: String,
        external_id: String,
        story_id: Option<String>,
        title: Option<String>,
    }
    let started = std::time::Instant::now();
    let (memory, stats) = run_articles(args)?;
    let elapsed = started.elapsed();
    let trends = memberships(&memory);
    let text = std::fs::read_to_string(&args.input)
        .map_err(|e| format!("--input {}: {e}", args.input.display()))?;
    let mut items: Vec<(String, String)> = Vec::new();
    let mut unlabelled = 0;
    // The latest labelled line of each article: its story and headline.
    let mut gold: BTreeMap<(String, String), (String, Option<String>)> = BTreeMap::new();
    for line in text.lines().filter(|l| !l.trim().is_empty()) {
        match serde_json::from_str::<Labelled>(line) {
            Ok(Labelled {
                source,
                external_id,
                story_id: Some(story),
                title,
            }) => {
                gold.insert((source, external_id), (story, title));
            }
            _ => unlabelled += 1,
        }
    }
    let headlines: Vec<(&String, Vec<String>)> = gold
        .values()
        .filter_map(|(story, t)| Some((story, dataflows::trends::text::features(t.as_ref()?))))
        .collect();
    let min_jaccard = args.trends.config()?.similarity.min_jaccard;
    let rates = crate::eval::edge_rates(&headlines, min_jaccard, EDGE_RATE_SAMPLES);
    for (key, (story, _)) in &gold {
        if let Some(trend) = trends.get(key) {
            items.push((trend.clone(), story.clone()));
        }
    }
    let s = crate::eval::score(&items);
    println!("trendflow eval: {}", args.input.display());
    println!(
        "  articles scored {}   (unlabelled {unlabelled}, labelled but not live {})",
        s.items,
        gold.len() - s.items
    );
    println!("  trends {}   gold stories {}", s.clusters, s.labels);
    println!(
        "  B-cubed   precision {:.4}  recall {:.4}  F1 {:.4}",
        s.bcubed.precision, s.bcubed.recall, s.bcubed.f1
    );
    println!(
        "  pairwise  precision {:.4}  recall {:.4}  F1 {:.4}",
        s.pairwise.precision, s.pairwise.recall, s.pairwise.f1
    );
    println!(
        "  headline pairs with Jaccard >= {}: same story {:.1}% of {}, different stories {:.3}% of {}{}",
        args.trends.min_jaccard,
        100.0 * rates.same(),
        rates.same_pairs,
        100.0 * rates.different(),
        rates.different_pairs,
        if rates.same_pairs + rates.different_pairs < crate::eval::all_pairs(headlines.len()) {
            " (sampled pairs)"
        } else {
            ""
        }
    );
    println!(
        "  time {:.3} s ({} events, {} workers)",
        elapsed.as_secs_f64(),
        stats.events_in,
        args.workers
    );
    Ok(())
}

/// `trendflow gen`: writes a deterministic synthetic workload as JSON lines.
pub fn gen(args: &crate::cli::GenArgs) -> Result<(), String> {
    use std::io::Write;
    if !(0.0..=1.0).contains(&args.malformed_share) {
        return Err(format!(
            "--malformed-share: {} is not between 0 and 1",
            args.malformed_share
        ));
    }
    let start_ms =
        dataflows::decode::parse_rfc3339("start", &args.start).map_err(|e| format!("--{e}"))?;
    let file = std::fs::File::create(&args.output)
        .map_err(|e| format!("cannot create {}: {e}", args.output.display()))?;
    let mut out = std::io::BufWriter::with_capacity(1 << 20, file);
    let opts = crate::gen::GenOptions {
        seed: args.seed,
        articles: args.articles,
        collector_results: args.collector_results,
        malformed_share: args.malformed_share,
        start_ms,
        days: args.days,
    };
    let started = std::time::Instant::now();
    let mut last_report = std::time::Instant::now();
    let stats = crate::gen::generate(&opts, &mut out, &mut |done, total| {
        if last_report.elapsed().as_secs() >= 2 || done == total {
            last_report = std::time::Instant::now();
            let rate = done as f64 / started.elapsed().as_secs_f64().max(1e-9);
            tracing::info!("gen: {done}/{total} lines ({rate:.0} lines/s)");
        }
    })
    .and_then(|s| out.flush().map(|_| s))
    .map_err(|e| format!("writing {}: {e}", args.output.display()))?;
    println!(
        "wrote {}: {} articles, {} collector results ({} corrections, {} deletes, {} malformed), {:.1} MB in {:.2} s",
        args.output.display(),
        stats.articles,
        stats.collector_results,
        stats.corrections,
        stats.deletes,
        stats.malformed,
        stats.bytes as f64 / 1e6,
        started.elapsed().as_secs_f64()
    );
    Ok(())
}

/// `trendflow migrate`: applies pending migrations, reverts the last N, or prints their SQL.
pub fn migrate(args: &crate::cli::MigrateArgs) -> Result<(), String> {
    use crate::sinks::sql::{migration_files, Backend, Pool};
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .map_err(|e| e.to_string())?;
    rt.block_on(async {
        let (pool, target) = match &args.postgres_url {
            Some(url) => (Pool::postgres(url).await, redact_url(url)),
            None if args.dry_run && !args.sqlite_path.exists() => {
                // Nothing to connect to: a dry run prints every migration.
                (
                    Err(crate::sinks::SinkError {
                        sink: "sqlite",
                        message: "no database yet".into(),
                        retryable: false,
                    }),
                    args.sqlite_path.display().to_string(),
                )
            }
            None => (
                Pool::sqlite(&args.sqlite_path).await,
                args.sqlite_path.display().to_string(),
            ),
        };
        let backend = if args.postgres_url.is_some() {
            Backend::Postgres
        } else {
            Backend::Sqlite
        };
        let applied = match &pool {
            Ok(p) => p.applied_migrations().await.map_err(|e| e.to_string())?,
            Err(_) if args.dry_run => Vec::new(),
            Err(e) => return Err(e.to_string()),
        };
        let files = migration_files(backend);
        let chosen: Vec<(i64, &str, &str)> = match args.down {
            None => files
                .iter()
                .filter(|(v, ..)| !applied.contains(v))
                .map(|(v, d, up, _)| (*v, *d, *up))
                .collect(),
            Some(n) => files
                .iter()
                .rev()
                .filter(|(v, ..)| applied.contains(v))
                .take(n as usize)
                .map(|(v, d, _, down)| (*v, *d, *down))
                .collect(),
        };
        let verb = if args.down.is_some() {
            "revert"
        } else {
            "apply"
        };
        if chosen.is_empty() {
            println!("{target}: nothing to {verb} (applied: {applied:?})");
            return Ok(());
        }
        if args.dry_run {
            for (v, d, sql) in &chosen {
                println!("-- would {verb} migration {v} ({d}) on {target}\n{sql}");
            }
            return Ok(());
        }
        let pool = pool.map_err(|e| e.to_string())?;
        match args.down {
            None => pool.migrate_up().await,
            Some(_) => {
                let target_version = chosen.last().map_or(0, |(v, ..)| v - 1);
                pool.migrate_down_to(target_version).await
            }
        }
        .map_err(|e| e.to_string())?;
        for (v, d, _) in &chosen {
            println!("{target}: {verb} migration {v} ({d}): done");
        }
        Ok(())
    })
}
