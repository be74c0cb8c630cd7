//! What a running instance reports: every metric name (Prometheus text), readiness, and the `/status` document, in one place.

use std::collections::BTreeMap;
use std::fmt::Write;
use std::sync::Mutex;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use dataflows::output::Table;
use serde::Serialize;

use crate::snapshot::Snapshot;

/// Metric names (with the `trendflow_` prefix), fixed here and documented in the README.
pub mod names {
    pub const EVENTS_IN: &str = "trendflow_events_in_total";
    pub const EVENTS_REJECTED: &str = "trendflow_events_rejected_total";
    pub const EPOCHS_COMMITTED: &str = "trendflow_epochs_committed_total";
    pub const LAST_EPOCH: &str = "trendflow_last_committed_epoch";
    pub const EPOCH_LATENCY: &str = "trendflow_epoch_latency_seconds";
    pub const COMMIT_DURATION: &str = "trendflow_snapshot_commit_seconds";
    pub const ROWS_WRITTEN: &str = "trendflow_rows_written_total";
    pub const TABLE_ROWS: &str = "trendflow_table_rows";
    pub const PARTITION_LAG: &str = "trendflow_partition_lag";
    pub const SINK_RETRIES: &str = "trendflow_sink_retries_total";
    pub const READY: &str = "trendflow_ready";
}

/// Upper bounds (seconds) of the latency histograms' buckets.
const BUCKETS: [f64; 12] = [
    0.001, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0,
];

#[derive(Clone, Debug, Default)]
struct Histogram {
    counts: [u64; BUCKETS.len()],
    count: u64,
    sum: f64,
}

impl Histogram {
    fn observe(&mut self, d: Duration) {
        let s = d.as_secs_f64();
        for (i, le) in BUCKETS.iter().enumerate() {
            if s <= *le {
                self.counts[i] += 1;
            }
        }
        self.count += 1;
        self.sum += s;
    }

    fn render(&self, name: &str, help: &str, out: &mut String) {
        let _ = writeln!(out, "# HELP {name} {help}\n# TYPE {name} histogram");
        for (i, le) in BUCKETS.iter().enumerate() {
            let _ = writeln!(out, "{name}_bucket{{le=\"{le}\"}} {}", self.counts[i]);
        }
        let _ = writeln!(out, "{name}_bucket{{le=\"+Inf\"}} {}", self.count);
        let _ = writeln!(out, "{name}_sum {}", self.sum);
        let _ = writeln!(out, "{name}_count {}", self.count);
    }
}

/// Lag and position of one source partition.
#[derive(Clone, Debug, Default, Serialize, PartialEq, Eq)]
pub struct PartitionStatus {
    pub source: String,
    pub partition: i32,
    pub next_offset: i64,
    /// Messages behind the end of the partition, when known.
    pub lag: Option<i64>,
}

#[derive(Debug, Default)]
struct State {
    events_in: BTreeMap<String, u64>,
    rejected: BTreeMap<String, u64>,
    epochs_committed: u64,
    last_epoch: u64,
    last_committed_at_ms: Option<i64>,
    epoch_latency: Histogram,
    commit_duration: Histogram,
    rows_written: BTreeMap<&'static str, u64>,
    table_rows: BTreeMap<&'static str, i64>,
    partitions: BTreeMap<(String, i32), PartitionStatus>,
    sink_retries: u64,
    sink_error: Option<String>,
    caught_up: bool,
    sinks: Vec<&'static str>,
}

impl State {
    fn ready(&self) -> bool {
        self.caught_up && self.sink_error.is_none()
    }
}

/// The `/status` document.
#[derive(Debug, Serialize)]
pub struct Status {
    pub ready: bool,
    pub caught_up: bool,
    pub last_epoch: u64,
    pub last_committed_at: Option<String>,
    pub epochs_committed: u64,
    pub events_in: u64,
    pub events_rejected: u64,
    pub sinks: Vec<&'static str>,
    /// `ok`, or the last commit error while it is being retried.
    pub sink_state: String,
    pub partitions: Vec<PartitionStatus>,
    pub table_rows: BTreeMap<&'static str, i64>,
}

/// Counters and gauges of a run, updated by the run loop and read by the admin server.
#[derive(Debug, Default)]
pub struct Telemetry {
    state: Mutex<State>,
}

fn now_ms() -> i64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| i64::try_from(d.as_millis()).unwrap_or(i64::MAX))
}

impl Telemetry {
    fn with<R>(&self, f: impl FnOnce(&mut State) -> R) -> R {
        let mut guard = match self.state.lock() {
            Ok(g) => g,
            Err(poisoned) => poisoned.into_inner(),
        };
        f(&mut guard)
    }

    pub fn set_sinks(&self, sinks: Vec<&'static str>) {
        self.with(|s| s.sinks = sinks);
    }

    /// Records a snapshot the sinks committed (`commit` is how long committing took).
    pub fn committed(&self, snapshot: &Snapshot, commit: Duration) {
        self.with(|s| {
            for (origin, n) in &snapshot.events_by_origin {
                *s.events_in.entry(origin.clone()).or_insert(0) += n;
            }
            for d in &snapshot.dead_letters {
                *s.rejected.entry(d.reason.to_string()).or_insert(0) += 1;
            }
            s.epochs_committed += 1;
            s.last_epoch = snapshot.epoch;
            s.last_committed_at_ms = Some(now_ms());
            if let Some(cut) = snapshot.cut_at {
                s.epoch_latency.observe(cut.elapsed());
            }
            s.commit_duration.observe(commit);
            for (table, changes) in &snapshot.tables {
                *s.rows_written.entry(table.name()).or_insert(0) += changes.len() as u64;
            }
            s.sink_error = None;
            s.caught_up = snapshot.caught_up;
            Self::positions(s, snapshot);
        });
    }

    /// Records a replayed (recovery) snapshot: state and positions, nothing written.
    pub fn replayed(&self, snapshot: &Snapshot) {
        self.with(|s| Self::positions(s, snapshot));
    }

    fn positions(s: &mut State, snapshot: &Snapshot) {
        for (table, delta) in &snapshot.row_delta {
            *s.table_rows.entry(table.name()).or_insert(0) += delta;
        }
        for o in &snapshot.offsets {
            let lag = snapshot
                .end_offsets
                .get(&(o.source.clone(), o.partition))
                .map(|end| (end - o.next_offset).max(0));
            s.partitions.insert(
                (o.source.clone(), o.partition),
                PartitionStatus {
                    source: o.source.clone(),
                    partition: o.partition,
                    next_offset: o.next_offset,
                    lag,
                },
            );
        }
    }

    /// Records a failed commit that will be retried.
    pub fn sink_retry(&self, sink: &str, error: &str) {
        self.with(|s| {
            s.sink_retries += 1;
            s.sink_error = Some(format!("{sink}: {error}"));
        });
    }

    /// Marks the source as caught up (or not), e.g. when it idles at the end of its input.
    pub fn set_caught_up(&self, caught_up: bool) {
        self.with(|s| s.caught_up = caught_up);
    }

    /// Caught up with the input, and the last commit succeeded.
    pub fn ready(&self) -> bool {
        self.with(|s| s.ready())
    }

    pub fn status(&self) -> Status {
        self.with(|s| Status {
            ready: s.ready(),
            caught_up: s.caught_up,
            last_epoch: s.last_epoch,
            last_committed_at: s
                .last_committed_at_ms
                .and_then(|ms| chrono::DateTime::from_timestamp_millis(ms).map(|t| t.to_rfc3339())),
            epochs_committed: s.epochs_committed,
            events_in: s.events_in.values().sum(),
            events_rejected: s.rejected.values().sum(),
            sinks: s.sinks.clone(),
            sink_state: s.sink_error.clone().unwrap_or_else(|| "ok".to_string()),
            partitions: s.partitions.values().cloned().collect(),
            table_rows: s.table_rows.clone(),
        })
    }

    /// Every metric in the Prometheus text format (0.0.4).
    pub fn prometheus(&self) -> String {
        use names::*;
        let ready = self.ready();
        self.with(|s| {
            let mut out = String::new();
            let header = |out: &mut String, name: &str, kind: &str, help: &str| {
                let _ = writeln!(out, "# HELP {name} {help}\n# TYPE {name} {kind}");
            };
            header(
                &mut out,
                EVENTS_IN,
                "counter",
                "Messages read, per topic or input file.",
            );
            for (origin, n) in &s.events_in {
                let _ = writeln!(out, "{EVENTS_IN}{{source=\"{}\"}} {n}", escape(origin));
            }
            header(
                &mut out,
                EVENTS_REJECTED,
                "counter",
                "Messages dead-lettered, per reason.",
            );
            for (reason, n) in &s.rejected {
                let _ = writeln!(
                    out,
                    "{EVENTS_REJECTED}{{reason=\"{}\"}} {n}",
                    escape(reason)
                );
            }
            header(
                &mut out,
                EPOCHS_COMMITTED,
                "counter",
                "Snapshots committed.",
            );
            let _ = writeln!(out, "{EPOCHS_COMMITTED} {}", s.epochs_committed);
            header(
                &mut out,
                LAST_EPOCH,
                "gauge",
                "Epoch of the last committed snapshot.",
            );
            let _ = writeln!(out, "{LAST_EPOCH} {}", s.last_epoch);
            s.epoch_latency.render(
                EPOCH_LATENCY,
                "From an epoch's input being cut to its snapshot committed in every sink.",
                &mut out,
            );
            s.commit_duration.render(
                COMMIT_DURATION,
                "Time to commit one snapshot to every sink (retries included).",
                &mut out,
            );
            header(
                &mut out,
                ROWS_WRITTEN,
                "counter",
                "Rows upserted or deleted, per table.",
            );
            for (table, n) in &s.rows_written {
                let _ = writeln!(out, "{ROWS_WRITTEN}{{table=\"{table}\"}} {n}");
            }
            header(
                &mut out,
                TABLE_ROWS,
                "gauge",
                "Live rows per output table (the state the graph maintains).",
            );
            for table in Table::ALL {
                let n = s.table_rows.get(table.name()).copied().unwrap_or(0);
                let _ = writeln!(out, "{TABLE_ROWS}{{table=\"{}\"}} {n}", table.name());
            }
            header(
                &mut out,
                PARTITION_LAG,
                "gauge",
                "Messages behind the end, per partition.",
            );
            for p in s.partitions.values() {
                if let Some(lag) = p.lag {
                    let _ = writeln!(
                        out,
                        "{PARTITION_LAG}{{source=\"{}\",partition=\"{}\"}} {lag}",
                        escape(&p.source),
                        p.partition
                    );
                }
            }
            header(
                &mut out,
                SINK_RETRIES,
                "counter",
                "Snapshot commits retried.",
            );
            let _ = writeln!(out, "{SINK_RETRIES} {}", s.sink_retries);
            header(
                &mut out,
                READY,
                "gauge",
                "1 when caught up and the sinks are healthy.",
            );
            let _ = writeln!(out, "{READY} {}", u8::from(ready));
            out
        })
    }
}

fn escape(s: &str) -> String {
    s.replace('\\', "\\\\")
        .replace('"', "\\\"")
        .replace('\n', "\\n")
}
