//! The command line: every command and flag, with its help text.

use std::path::PathBuf;

use clap::{Args, Parser, Subcommand, ValueEnum};

/// trendflow: incremental news trends and brand/competitor metrics, published as consistent
/// snapshots.
#[derive(Debug, Parser)]
#[command(name = "trendflow", version, about, long_about = None)]
pub struct Cli {
    /// TOML file of settings (keys are flag names, e.g. `kafka_brokers`); flags and
    /// `TRENDFLOW_*` variables override it. See trendflow.example.toml.
    #[arg(long, global = true, value_name = "FILE", env = "TRENDFLOW_CONFIG")]
    pub config: Option<PathBuf>,
    #[command(subcommand)]
    pub command: Command,
}

#[derive(Debug, Subcommand)]
pub enum Command {
    /// Run the pipeline: read events, maintain every table, commit a snapshot per epoch.
    Run(Box<RunArgs>),
    /// Apply (or revert, or print) the database migrations of PostgreSQL or SQLite.
    Migrate(MigrateArgs),
    /// Publish a JSON-lines file to a Kafka topic, keyed from the events.
    Produce(ProduceArgs),
    /// Ask a running instance for its status (its /status endpoint).
    Status(StatusArgs),
    /// Write synthetic but realistic events (JSON lines), deterministic by seed.
    Gen(GenArgs),
    /// Cluster a file of articles with the same graph as `run`; prints `external_id<TAB>trend_id`.
    Cluster(ClusterArgs),
    /// Score clustering against gold labels (`story_id` on each article): B-cubed and pairwise,
    /// and how often headline pairs make an edge within and across stories.
    Eval(ClusterArgs),
}

#[derive(Debug, Args)]
pub struct ClusterArgs {
    /// JSON-lines file of articles.
    #[arg(long, value_name = "FILE")]
    pub input: PathBuf,
    /// Timely worker threads.
    #[arg(long, default_value_t = 2, value_parser = clap::value_parser!(u16).range(1..=256))]
    pub workers: u16,
    /// Largest number of events in one epoch.
    #[arg(long, default_value_t = 100_000, value_parser = clap::value_parser!(u64).range(1..))]
    pub epoch_events: u64,
    #[command(flatten)]
    pub trends: TrendArgs,
}

/// Trend clustering parameters (defaults are the documented method; see the README).
#[derive(Debug, Args, Clone, Copy)]
pub struct TrendArgs {
    /// Event-time window in hours: older articles leave the live trends.
    #[arg(long, default_value_t = 168, value_parser = clap::value_parser!(u64).range(1..))]
    pub window_hours: u64,
    /// Smallest Jaccard overlap of two headlines' word sets for an edge, in (0, 1].
    #[arg(long, default_value_t = 0.12)]
    pub min_jaccard: f64,
    /// Words in at most this many live headlines propose every pair of their headlines.
    #[arg(long, default_value_t = 300, value_parser = clap::value_parser!(u64).range(1..))]
    pub index_cap: u64,
    /// A word over the index cap proposes the pairs of its headlines at most this many places
    /// apart in time order (0: none).
    #[arg(long, default_value_t = 0)]
    pub band: usize,
    /// Rounds of label propagation.
    #[arg(long, default_value_t = 10, value_parser = clap::value_parser!(u32).range(1..=1000))]
    pub rounds: u32,
}

impl TrendArgs {
    pub fn config(&self) -> Result<dataflows::trends::TrendConfig, String> {
        use dataflows::trends::{
            cluster::ClusterConfig, similarity::SimilarityConfig, TrendConfig,
        };
        if !(self.min_jaccard > 0.0 && self.min_jaccard <= 1.0) {
            return Err(format!(
                "--min-jaccard: {} is not in (0, 1]",
                self.min_jaccard
            ));
        }
        Ok(TrendConfig {
            window_ms: self.window_hours as i64 * 3_600_000,
            similarity: SimilarityConfig {
                index_cap: self.index_cap,
                band: self.band,
                min_jaccard: (self.min_jaccard * 1e6).round() as i64,
                ..SimilarityConfig::default()
            },
            cluster: ClusterConfig {
                rounds: self.rounds,
            },
        })
    }
}

/// Which outputs `run` writes.
#[derive(Clone, Copy, Debug, PartialEq, Eq, ValueEnum)]
pub enum SinkKind {
    /// No output: the graph only (for benchmarks).
    None,
    Postgres,
    Parquet,
    Sqlite,
}

/// The event kind of an input file.
#[derive(Clone, Copy, Debug, PartialEq, Eq, ValueEnum)]
pub enum InputKind {
    /// Read the kind from each line (`kind` field, else `external_id` → article, `id` → collector result).
    Mixed,
    Article,
    CollectorResult,
}

#[derive(Debug, Args)]
pub struct RunArgs {
    /// JSON-lines file of events to read (one event per line). Without it (and without
    /// Kafka), `run` reads the bundled sample events.
    #[arg(long, value_name = "FILE")]
    pub input: Option<PathBuf>,
    /// Event kind of the lines of --input.
    #[arg(long, value_enum, default_value_t = InputKind::Mixed)]
    pub kind: InputKind,
    /// Stop once everything in the input has been committed (without it, a file is followed
    /// for appended lines and Kafka topics are read until SIGINT/SIGTERM).
    #[arg(long)]
    pub once: bool,
    /// Outputs to write, comma separated [default: postgres (+ parquet if --parquet-dir) when
    /// --postgres-url is set, else sqlite,parquet].
    #[arg(long, value_enum, value_delimiter = ',')]
    pub sinks: Option<Vec<SinkKind>>,
    /// Folder for the embedded outputs (SQLite database, Parquet exports, the sample input).
    #[arg(
        long,
        value_name = "DIR",
        default_value = "trendflow-data",
        env = "TRENDFLOW_DATA_DIR"
    )]
    pub data_dir: PathBuf,
    /// SQLite database file [default: DATA_DIR/trendflow.db].
    #[arg(long, value_name = "FILE", env = "TRENDFLOW_SQLITE_PATH")]
    pub sqlite_path: Option<PathBuf>,
    /// PostgreSQL connection URL (postgres://user@host:port/db).
    #[arg(
        long,
        value_name = "URL",
        env = "TRENDFLOW_POSTGRES_URL",
        hide_env_values = true
    )]
    pub postgres_url: Option<String>,
    #[command(flatten)]
    pub kafka: KafkaArgs,
    /// Topic of article events.
    #[arg(long, value_name = "TOPIC", default_value = "articles")]
    pub articles_topic: String,
    /// Topic of collector-result events.
    #[arg(long, value_name = "TOPIC", default_value = "collector_results")]
    pub collector_results_topic: String,
    /// Kafka consumer group (for monitoring only: trendflow keeps its own offsets).
    #[arg(long, value_name = "GROUP", default_value = "trendflow")]
    pub group_id: String,
    /// Longest an epoch stays open once it has input, in milliseconds (Kafka input).
    #[arg(long, value_name = "MS", default_value_t = 1000)]
    pub epoch_interval_ms: u64,
    /// Shortest an epoch stays open once it has input, in milliseconds (Kafka input): after
    /// it, the epoch closes as soon as the previous one is committed.
    #[arg(long, value_name = "MS", default_value_t = 100)]
    pub epoch_min_ms: u64,
    /// Folder of the Parquet exports [default: DATA_DIR/exports].
    #[arg(long, value_name = "DIR", env = "TRENDFLOW_PARQUET_DIR")]
    pub parquet_dir: Option<PathBuf>,
    /// Older Parquet snapshots kept readable besides the latest.
    #[arg(long, value_name = "K", default_value_t = 3)]
    pub parquet_keep: usize,
    /// Seconds between Parquet exports (0: every epoch); the last epoch of a run is always exported.
    #[arg(long, value_name = "SECS", default_value_t = 10.0)]
    pub parquet_every: f64,
    /// Admin HTTP address (/health, /ready, /metrics, /status) [default: 127.0.0.1:9464; if
    /// that port is taken the endpoints are off, with a warning].
    #[arg(long, value_name = "HOST:PORT", env = "TRENDFLOW_ADMIN_ADDR")]
    pub admin_addr: Option<std::net::SocketAddr>,
    /// Timely worker threads.
    #[arg(long, default_value_t = 2, value_parser = clap::value_parser!(u16).range(1..=256))]
    pub workers: u16,
    /// Largest number of events in one epoch.
    #[arg(long, default_value_t = 100_000, value_parser = clap::value_parser!(u64).range(1..))]
    pub epoch_events: u64,
    /// Largest accepted message, in bytes; larger ones are dead-lettered.
    #[arg(long, default_value_t = 1 << 20, value_parser = clap::value_parser!(u64).range(1..))]
    pub max_payload: u64,
    /// After the run, recompute every table with the plain sequential oracle and compare.
    #[arg(long)]
    pub verify: bool,
    /// Where the collector results and article headlines the graph's replace rules hold are
    /// kept (serialized; the graph's state keeps 12 bytes per record pointing there): a scratch
    /// file per worker in --spill-dir, or memory.
    #[arg(long, value_enum, default_value_t = AnswerStoreKind::Disk, env = "TRENDFLOW_ANSWER_STORE")]
    pub answer_store: AnswerStoreKind,
    /// Folder of the answer store's scratch files (removed as soon as created: nothing stays
    /// behind) [default: DATA_DIR/spill].
    #[arg(long, value_name = "DIR", env = "TRENDFLOW_SPILL_DIR")]
    pub spill_dir: Option<PathBuf>,
    #[command(flatten)]
    pub trends: TrendArgs,
}

/// Where the collector results and article headlines the graph holds are kept.
#[derive(Clone, Copy, Debug, PartialEq, Eq, ValueEnum)]
pub enum AnswerStoreKind {
    Disk,
    Memory,
}

#[derive(Debug, Args)]
pub struct GenArgs {
    /// Seed: the same seed and counts give the same bytes.
    #[arg(long, default_value_t = 1)]
    pub seed: u64,
    /// Number of article lines (corrections, deletes and malformed lines included).
    #[arg(long, default_value_t = 10_000)]
    pub articles: u64,
    /// Number of collector-result lines (corrections, deletes and malformed lines included).
    #[arg(long, default_value_t = 10_000)]
    pub collector_results: u64,
    /// Share of malformed lines, between 0 and 1.
    #[arg(long, default_value_t = 0.001)]
    pub malformed_share: f64,
    /// First day of the generated period (RFC 3339).
    #[arg(long, default_value = "2026-01-01T00:00:00Z")]
    pub start: String,
    /// Length of the generated period in days.
    #[arg(long, default_value_t = 14)]
    pub days: u32,
    /// Output file.
    #[arg(long, value_name = "FILE")]
    pub output: PathBuf,
}

#[derive(Debug, Args)]
pub struct MigrateArgs {
    /// PostgreSQL connection URL; without it, the SQLite database is migrated.
    #[arg(
        long,
        value_name = "URL",
        env = "TRENDFLOW_POSTGRES_URL",
        hide_env_values = true
    )]
    pub postgres_url: Option<String>,
    /// SQLite database file (when no --postgres-url).
    #[arg(
        long,
        value_name = "FILE",
        default_value = "trendflow-data/trendflow.db",
        env = "TRENDFLOW_SQLITE_PATH"
    )]
    pub sqlite_path: PathBuf,
    /// Print the SQL that would run, change nothing.
    #[arg(long)]
    pub dry_run: bool,
    /// Revert the last N applied migrations instead of applying pending ones.
    #[arg(long, value_name = "N")]
    pub down: Option<u32>,
}

/// How to reach Kafka.
#[derive(Debug, Args, Clone)]
pub struct KafkaArgs {
    /// Kafka bootstrap servers (HOST:PORT[,HOST:PORT…]); switches input to Kafka.
    #[arg(long, value_name = "HOST:PORT", env = "TRENDFLOW_KAFKA_BROKERS")]
    pub kafka_brokers: Option<String>,
    /// A librdkafka setting passed through, e.g. security.protocol=SASL_SSL (repeatable).
    #[arg(long = "kafka-setting", value_name = "KEY=VALUE", value_parser = parse_setting)]
    pub kafka_settings: Vec<(String, String)>,
}

fn parse_setting(s: &str) -> Result<(String, String), String> {
    match s.split_once('=') {
        Some((k, v)) if !k.trim().is_empty() => Ok((k.trim().to_string(), v.to_string())),
        _ => Err(format!("{s:?} is not KEY=VALUE")),
    }
}

impl KafkaArgs {
    pub fn config(&self) -> crate::sources::kafka::KafkaConfig {
        crate::sources::kafka::KafkaConfig {
            brokers: self.kafka_brokers.clone().unwrap_or_default(),
            settings: self.kafka_settings.clone(),
        }
    }
}

#[derive(Debug, Args)]
pub struct ProduceArgs {
    #[command(flatten)]
    pub kafka: KafkaArgs,
    /// Topic to publish to (created if missing).
    #[arg(long, value_name = "TOPIC")]
    pub topic: String,
    /// JSON-lines file of events.
    #[arg(long, value_name = "FILE")]
    pub input: PathBuf,
    /// Partitions of the topic when it has to be created.
    #[arg(long, default_value_t = 4, value_parser = clap::value_parser!(i32).range(1..))]
    pub partitions: i32,
    /// Send unversioned deletes (`"deleted": true` without `version`) as Kafka tombstones.
    #[arg(long)]
    pub tombstones: bool,
}

#[derive(Debug, Args)]
pub struct StatusArgs {
    /// Admin address of the running instance.
    #[arg(
        long,
        value_name = "HOST:PORT",
        default_value = "127.0.0.1:9464",
        env = "TRENDFLOW_ADMIN_ADDR"
    )]
    pub admin_addr: std::net::SocketAddr,
}
