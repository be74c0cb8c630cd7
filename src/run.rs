//! `trendflow run`: wires a source, the engine and the chosen sinks, and prints the summary.

use std::collections::BTreeMap;
use std::io::{BufRead, BufReader};
use std::path::Path;

use dataflows::decode::Decoder;
use dataflows::event::{Event, EventKind};
use dataflows::output::{Row, Table};

use crate::cli::{ClusterArgs, InputKind, RunArgs, SinkKind};
use crate::engine::{self, EngineOptions};
use crate::sinks::memory::MemorySink;
use crate::sinks::{Sink, SinkError};
use crate::sources::file::FileSource;

fn input_kind(kind: InputKind) -> Option<EventKind> {
    match kind {
        InputKind::Mixed => None,
        InputKind::Article => Some(EventKind::Article),
        InputKind::CollectorResult => Some(EventKind::CollectorResult),
    }
}

pub fn run(args: &RunArgs) -> Result<(), String> {
    let Some(input) = args.input.as_deref() else {
        return Err("--input FILE is required (Kafka input is not built yet)".into());
    };
    for sink in &args.sinks {
        if *sink != SinkKind::None {
            return Err(format!(
                "--sinks: the {sink:?} sink is not built yet; use --sinks none"
            ));
        }
    }
    if !args.once {
        return Err("only --once is supported for file input so far".into());
    }
    let decoder = Decoder {
        max_payload: args.max_payload as usize,
    };
    let options = EngineOptions {
        workers: usize::from(args.workers),
        decoder,
        max_epochs_in_flight: 2,
        graph: dataflows::graph::GraphConfig {
            trends: args.trends.config()?,
        },
    };
    let kind = input_kind(args.kind);
    let source = FileSource::open(input, kind, args.epoch_events as usize)
        .map_err(|e| format!("--input {}: {e}", input.display()))?;
    let mut row_counts: BTreeMap<Table, i64> = BTreeMap::new();
    let mut memory = args.verify.then(MemorySink::default);
    let stats = engine::run(&options, source, |snapshot| -> Result<(), SinkError> {
        for (table, delta) in &snapshot.row_delta {
            *row_counts.entry(*table).or_insert(0) += delta;
        }
        if let Some(m) = memory.as_mut() {
            m.commit(&snapshot).map_err(|e| SinkError {
                message: format!("{} sink: {}", m.name(), e.message),
                ..e
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
        tracing::debug!(
            epoch = snapshot.epoch,
            events = snapshot.events_in,
            rows_changed = ?snapshot.rows_changed(),
            "snapshot committed"
        );
        Ok(())
    })
    .map_err(|e| e.to_string())?;

    let secs = stats.elapsed.as_secs_f64();
    println!("trendflow run: {}", input.display());
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

/// Recomputes every table with the sequential oracle and compares it with what was committed.
fn verify(
    input: &Path,
    kind: Option<EventKind>,
    decoder: Decoder,
    committed: &MemorySink,
    row_counts: &BTreeMap<Table, i64>,
    trends: dataflows::trends::TrendConfig,
) -> Result<(), String> {
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
    // Aliases and the archive record history (they depend on epoch boundaries), so the
    // oracle covers every other table.
    let history = |t: Table| matches!(t, Table::TrendAliases | Table::ArchivedTrends);
    let mut expected = dataflows::oracle::metrics_tables(&events);
    expected.extend(dataflows::oracle::trend_tables(&events, trends));
    let actual: BTreeMap<Row, i64> = committed
        .rows()
        .filter(|r| !history(r.table()))
        .map(|r| (r.clone(), 1))
        .collect();
    let mut expected_counts: BTreeMap<Table, i64> = BTreeMap::new();
    for (row, n) in &expected {
        *expected_counts.entry(row.table()).or_insert(0) += n;
    }
    let counts_match = Table::ALL.iter().filter(|t| !history(**t)).all(|t| {
        row_counts.get(t).copied().unwrap_or(0) == expected_counts.get(t).copied().unwrap_or(0)
    });
    if expected == actual && counts_match {
        println!(
            "  verify: OK, {} rows in {} tables equal the sequential oracle's",
            actual.len(),
            Table::ALL.iter().filter(|t| !history(**t)).count()
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
    };
    let source = FileSource::open(
        &args.input,
        Some(EventKind::Article),
        args.epoch_events as usize,
    )
    .map_err(|e| format!("--input {}: {e}", args.input.display()))?;
    let mut memory = MemorySink::default();
    let stats = engine::run(&options, source, |snapshot| memory.commit(&snapshot))
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

/// `trendflow eval`: clustering quality against the `story_id` labels of the input.
pub fn eval(args: &ClusterArgs) -> Result<(), String> {
    #[derive(serde::Deserialize)]
    struct Labelled {
        source: String,
        external_id: String,
        story_id: Option<String>,
    }
    let started = std::time::Instant::now();
    let (memory, stats) = run_articles(args)?;
    let elapsed = started.elapsed();
    let trends = memberships(&memory);
    let text = std::fs::read_to_string(&args.input)
        .map_err(|e| format!("--input {}: {e}", args.input.display()))?;
    let mut items: Vec<(String, String)> = Vec::new();
    let mut unlabelled = 0;
    let mut gold: BTreeMap<(String, String), String> = BTreeMap::new();
    for line in text.lines().filter(|l| !l.trim().is_empty()) {
        match serde_json::from_str::<Labelled>(line) {
            Ok(Labelled {
                source,
                external_id,
                story_id: Some(story),
            }) => {
                gold.insert((source, external_id), story);
            }
            _ => unlabelled += 1,
        }
    }
    for (key, story) in &gold {
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
