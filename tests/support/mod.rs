//! Shared helpers of the service-side tests: generated inputs, runs into sinks, oracle tables, scratch databases.
#![allow(dead_code)]

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use dataflows::decode::Decoder;
use dataflows::output::Table;
use trendflow::columns::{values, Value};
use trendflow::engine::{AnswerStore, EngineOptions};
use trendflow::sinks::memory::MemorySink;
use trendflow::sinks::Sink;
use trendflow::sources::file::FileSource;

/// A scratch directory unique to this process and `name`, emptied first.
pub fn scratch_dir(name: &str) -> PathBuf {
    let dir = std::env::temp_dir().join(format!("trendflow-test-{}-{name}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).expect("create scratch dir");
    dir
}

/// Writes a generated workload (corrections, deletes and malformed lines included).
pub fn generate(path: &Path, seed: u64, articles: u64, collector_results: u64) {
    let mut out = std::io::BufWriter::new(std::fs::File::create(path).expect("create input"));
    trendflow::gen::generate(
        &trendflow::gen::GenOptions {
            seed,
            articles,
            collector_results,
            malformed_share: 0.01,
            start_ms: 1_767_225_600_000, // 2026-01-01
            days: 5,
        },
        &mut out,
        &mut |_, _| {},
    )
    .expect("generate");
    std::io::Write::flush(&mut out).expect("flush input");
}

pub fn options(workers: usize) -> EngineOptions {
    EngineOptions {
        workers,
        decoder: Decoder::default(),
        max_epochs_in_flight: 2,
        graph: dataflows::graph::GraphConfig::default(),
        answers: AnswerStore::default(),
    }
}

/// Runs `input` into `sinks` (and a memory sink, returned) with epochs of `epoch_events`.
pub fn run_file(
    input: &Path,
    epoch_events: usize,
    workers: usize,
    sinks: &mut [Box<dyn Sink>],
) -> (MemorySink, u64) {
    let source = FileSource::open(input, None, epoch_events).expect("open input");
    let mut memory = MemorySink::default();
    let (_, last_epoch) =
        trendflow::run::run_into(&options(workers), source, sinks, |s| memory.commit(s))
            .expect("run");
    (memory, last_epoch)
}

/// Every table as sorted value rows.
pub type Tables = BTreeMap<Table, Vec<Vec<Value>>>;

fn sorted(mut rows: Vec<Vec<Value>>) -> Vec<Vec<Value>> {
    trendflow::columns::sort_rows(&mut rows);
    rows
}

/// The expected tables: the oracle's for every table it defines, the memory sink's (fed the
/// same snapshots) for the history tables.
pub fn expected_tables(input: &Path, memory: &MemorySink) -> Tables {
    let oracle = trendflow::run::oracle_rows(
        input,
        None,
        Decoder::default(),
        dataflows::graph::GraphConfig::default().trends,
    )
    .expect("oracle");
    let mut tables: Tables = Table::ALL.iter().map(|t| (*t, Vec::new())).collect();
    for (row, n) in oracle {
        assert_eq!(n, 1, "oracle rows are sets");
        tables.entry(row.table()).or_default().push(values(&row));
    }
    for table in Table::ALL {
        if table.is_history() {
            let rows = memory
                .tables
                .get(&table)
                .map(|t| t.values().map(values).collect())
                .unwrap_or_default();
            tables.insert(table, rows);
        }
    }
    tables.into_iter().map(|(t, r)| (t, sorted(r))).collect()
}

/// Asserts two sets of tables are equal, naming the first table and row that differ.
pub fn assert_tables_eq(actual: &Tables, expected: &Tables, what: &str) {
    for table in Table::ALL {
        let a = actual.get(&table).cloned().unwrap_or_default();
        let e = expected.get(&table).cloned().unwrap_or_default();
        if a != e {
            let first = a
                .iter()
                .zip(&e)
                .position(|(x, y)| x != y)
                .unwrap_or(a.len().min(e.len()));
            panic!(
                "{what}: table {} differs: {} rows vs {} expected; first difference at row {first}:\n  got      {:?}\n  expected {:?}",
                table.name(),
                a.len(),
                e.len(),
                a.get(first),
                e.get(first)
            );
        }
    }
}

/// The PostgreSQL server of the tests (`TRENDFLOW_TEST_POSTGRES`, default the local one).
pub fn postgres_server() -> String {
    std::env::var("TRENDFLOW_TEST_POSTGRES")
        .unwrap_or_else(|_| "postgres://postgres@127.0.0.1:5432".to_string())
}

/// A fresh database named after this process and `name`; dropped by `drop_database`.
pub fn create_database(name: &str) -> String {
    let db = format!("tf_{}_{name}", std::process::id());
    let admin = format!("{}/postgres", postgres_server());
    block_on(async {
        use sqlx::Executor;
        let pool = sqlx::PgPool::connect(&admin)
            .await
            .expect("connect to the test PostgreSQL (see ENVIRONMENT.md / .ci/run)");
        pool.execute(format!("DROP DATABASE IF EXISTS {db} WITH (FORCE)").as_str())
            .await
            .expect("drop old test database");
        pool.execute(format!("CREATE DATABASE {db}").as_str())
            .await
            .expect("create test database");
        pool.close().await;
    });
    format!("{}/{db}", postgres_server())
}

pub fn drop_database(url: &str) {
    let db = url.rsplit('/').next().expect("database name").to_string();
    let admin = format!("{}/postgres", postgres_server());
    block_on(async {
        use sqlx::Executor;
        let pool = sqlx::PgPool::connect(&admin).await.expect("connect");
        pool.execute(format!("DROP DATABASE IF EXISTS {db} WITH (FORCE)").as_str())
            .await
            .expect("drop test database");
        pool.close().await;
    });
}

pub fn block_on<F: std::future::Future>(f: F) -> F::Output {
    tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .expect("runtime")
        .block_on(f)
}

/// The Kafka broker of the tests (`TRENDFLOW_TEST_KAFKA`, default the local one that
/// `scripts/services` starts).
pub fn kafka_brokers() -> String {
    std::env::var("TRENDFLOW_TEST_KAFKA").unwrap_or_else(|_| "127.0.0.1:9092".to_string())
}

/// Reads every table of a PostgreSQL database as sorted value rows.
pub fn read_postgres(url: &str) -> Tables {
    block_on(async {
        let pool = trendflow::sinks::sql::Pool::postgres(url)
            .await
            .expect("connect");
        let mut out = Tables::new();
        for t in Table::ALL {
            out.insert(t, pool.read_table(t).await.expect("read table"));
        }
        out
    })
}
