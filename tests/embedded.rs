//! The embedded default: `trendflow run` with no input and no services reads the bundled sample, writes SQLite and Parquet, and prints a summary.

mod support;

use std::process::Command;

use dataflows::output::Table;
use support::*;
use trendflow::sinks::parquet::latest_manifest;
use trendflow::sinks::sql::Pool;

#[test]
fn run_with_no_flags_writes_sqlite_and_parquet_equal_to_the_oracle() {
    let dir = scratch_dir("embedded");
    let out = Command::new(env!("CARGO_BIN_EXE_trendflow"))
        .args(["run", "--data-dir"])
        .arg(&dir)
        .env_remove("TRENDFLOW_POSTGRES_URL")
        .env_remove("TRENDFLOW_KAFKA_BROKERS")
        .output()
        .expect("run trendflow");
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(
        out.status.success(),
        "{stdout}\n{}",
        String::from_utf8_lossy(&out.stderr)
    );
    for expected in [
        "the bundled sample events",
        "top trends",
        "top brands by average visibility",
        "SQLite",
        "Parquet",
    ] {
        assert!(
            stdout.contains(expected),
            "summary lacks {expected:?}:\n{stdout}"
        );
    }
    let sample = dir.join("sample-events.jsonl");
    let db = dir.join("trendflow.db");
    assert!(
        stdout.contains(&db.display().to_string()),
        "names the database"
    );

    // SQLite holds every table, equal to the oracle's for the sample (history tables: the
    // Parquet export of the same epoch must agree with SQLite).
    let sqlite: Tables = block_on(async {
        let pool = Pool::sqlite(&db).await.expect("open sqlite");
        let mut t = Tables::new();
        for table in Table::ALL {
            t.insert(table, pool.read_table(table).await.expect("read"));
        }
        t
    });
    let oracle = expected_tables(&sample, &trendflow::sinks::memory::MemorySink::default());
    for table in Table::ALL {
        if !table.is_history() {
            assert_eq!(sqlite[&table], oracle[&table], "sqlite {}", table.name());
        }
    }
    assert!(sqlite[&Table::MetricFacts].len() > 1_000);
    // The answers were kept in per-worker scratch files there (the default), unlinked at once.
    let spill: Vec<_> = std::fs::read_dir(dir.join("spill"))
        .expect("the answer store's folder")
        .collect();
    assert!(spill.is_empty(), "scratch files left behind: {spill:?}");
    assert!(sqlite[&Table::Trends].len() > 5);

    // Parquet: the latest manifest lists every table with SQLite's row counts.
    let manifest = latest_manifest(&dir.join("exports"))
        .expect("read manifest")
        .expect("a published snapshot");
    for table in Table::ALL {
        let exported = &manifest.tables[table.name()];
        assert_eq!(
            exported.rows as usize,
            sqlite[&table].len(),
            "parquet {} rows",
            table.name()
        );
        for f in &exported.files {
            assert!(dir.join("exports").join(&f.path).exists(), "{}", f.path);
        }
    }
    let _ = std::fs::remove_dir_all(&dir);
}
