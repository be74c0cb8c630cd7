//! The SQL sinks against real databases: tables equal the oracle's, migrations round-trip, readers see whole snapshots.

mod support;

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;

use dataflows::output::Table;
use support::*;
use trendflow::columns::columns;
use trendflow::sinks::sql::{Backend, Pool, SqlSink};
use trendflow::sinks::Sink;

fn read_all(sink: &SqlSink) -> Tables {
    Table::ALL
        .iter()
        .map(|t| {
            let rows = sink
                .block_on(sink.pool().read_table(*t))
                .unwrap_or_else(|e| panic!("read {}: {e}", t.name()));
            (*t, rows)
        })
        .collect()
}

#[test]
fn sqlite_tables_equal_the_oracle_and_a_rerun_replaces_them() {
    let dir = scratch_dir("sqlite-oracle");
    let input = dir.join("events.jsonl");
    generate(&input, 11, 1_200, 1_500);
    let db = dir.join("out.db");
    let mut sinks: Vec<Box<dyn Sink>> = vec![Box::new(SqlSink::sqlite(&db).expect("open sqlite"))];
    let (memory, last) = run_file(&input, 400, 2, &mut sinks);
    assert!(last >= 5, "several epochs were committed ({last})");
    drop(sinks);
    let sink = SqlSink::sqlite(&db).expect("reopen sqlite");
    assert_eq!(sink.last_epoch(), last);
    let expected = expected_tables(&input, &memory);
    assert!(expected[&Table::MetricFacts].len() > 1_000);
    assert!(!expected[&Table::Trends].is_empty());
    assert_tables_eq(&read_all(&sink), &expected, "sqlite");

    // A second run of the same file (other epoch size, 1 worker) replaces the rows in its
    // first snapshot and numbers its epochs after the first run's.
    let mut sink = sink;
    sink.reset_on_next_commit();
    let mut sinks: Vec<Box<dyn Sink>> = vec![Box::new(sink)];
    let (memory2, last2) = run_file(&input, 1_000, 1, &mut sinks);
    assert!(last2 > last);
    drop(sinks);
    let sink = SqlSink::sqlite(&db).expect("reopen sqlite");
    assert_tables_eq(
        &read_all(&sink),
        &expected_tables(&input, &memory2),
        "sqlite rerun",
    );
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn postgres_tables_equal_the_oracle() {
    let dir = scratch_dir("pg-oracle");
    let input = dir.join("events.jsonl");
    generate(&input, 12, 1_000, 1_500);
    let url = create_database("oracle");
    let mut sinks: Vec<Box<dyn Sink>> = vec![Box::new(SqlSink::postgres(&url).expect("connect"))];
    let (memory, last) = run_file(&input, 350, 4, &mut sinks);
    drop(sinks);
    let sink = SqlSink::postgres(&url).expect("reconnect");
    assert_eq!(sink.last_epoch(), last);
    assert_tables_eq(
        &read_all(&sink),
        &expected_tables(&input, &memory),
        "postgres",
    );
    // The snapshots table has one row per epoch with the input counts.
    let (n, events): (i64, i64) = sink
        .block_on(async {
            let Pool::Postgres(p) = sink.pool() else {
                unreachable!()
            };
            sqlx::query_as("SELECT count(*), sum(events_in)::bigint FROM snapshots")
                .fetch_one(p)
                .await
        })
        .expect("snapshots");
    assert_eq!(n as u64, last);
    assert!(events >= 2_500, "events_in recorded ({events})");
    drop(sink);
    drop_database(&url);
    let _ = std::fs::remove_dir_all(&dir);
}

/// Column names, order and nullability of every table as the migrations create them.
async fn catalog(pool: &Pool, table: Table) -> Vec<(String, bool)> {
    match pool {
        Pool::Postgres(p) => sqlx::query_as::<_, (String, String)>(
            "SELECT column_name::text, is_nullable::text FROM information_schema.columns
             WHERE table_schema = current_schema() AND table_name = $1 ORDER BY ordinal_position",
        )
        .bind(table.name())
        .fetch_all(p)
        .await
        .expect("catalog")
        .into_iter()
        .map(|(c, n)| (c, n == "YES"))
        .collect(),
        Pool::Sqlite(p) => sqlx::query_as::<_, (String, bool, i64)>(
            "SELECT name, \"notnull\", pk FROM pragma_table_info(?) ORDER BY cid",
        )
        .bind(table.name())
        .fetch_all(p)
        .await
        .expect("catalog")
        .into_iter()
        .map(|(c, notnull, _)| (c, !notnull))
        .collect(),
    }
}

async fn check_migrations(pool: &Pool) {
    pool.migrate_up().await.expect("up");
    for table in Table::ALL {
        let expected: Vec<(String, bool)> = columns(table)
            .iter()
            .map(|c| (c.name.to_string(), c.nullable))
            .collect();
        assert_eq!(
            catalog(pool, table).await,
            expected,
            "{:?} {} columns differ from src/columns.rs",
            pool.backend(),
            table.name()
        );
    }
    assert!(pool
        .table_exists("extracted_positions")
        .await
        .expect("view"));
    assert_eq!(
        pool.applied_migrations().await.expect("applied"),
        vec![1, 2, 3]
    );
    pool.migrate_down_to(0).await.expect("down to zero");
    assert!(pool.applied_migrations().await.expect("applied").is_empty());
    for table in Table::ALL {
        assert!(!pool.table_exists(table.name()).await.expect("exists"));
    }
    assert!(!pool
        .table_exists("extracted_positions")
        .await
        .expect("view"));
    pool.migrate_up().await.expect("up again");
    assert_eq!(
        pool.applied_migrations().await.expect("applied"),
        vec![1, 2, 3]
    );
}

#[test]
fn migrations_match_the_columns_and_go_up_down_and_up_again() {
    let url = create_database("migrations");
    block_on(async {
        let pool = Pool::postgres(&url).await.expect("connect");
        check_migrations(&pool).await;
        pool.migrate_down_to(0).await.expect("down");
    });
    // `migrate --dry-run` prints the SQL and changes nothing.
    let out = std::process::Command::new(env!("CARGO_BIN_EXE_trendflow"))
        .args(["migrate", "--dry-run", "--postgres-url", &url])
        .output()
        .expect("run migrate --dry-run");
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let printed = String::from_utf8_lossy(&out.stdout);
    assert!(printed.contains("CREATE TABLE metric_facts"), "{printed}");
    assert!(
        printed.contains("CREATE VIEW extracted_positions"),
        "{printed}"
    );
    block_on(async {
        let pool = Pool::postgres(&url).await.expect("connect");
        assert!(pool.applied_migrations().await.expect("applied").is_empty());
        assert!(!pool.table_exists("metric_facts").await.expect("exists"));
    });
    // `migrate`, then `migrate --down 1` reverts only the last one.
    for (args, applied) in [(vec![], vec![1, 2, 3]), (vec!["--down", "1"], vec![1, 2])] {
        let status = std::process::Command::new(env!("CARGO_BIN_EXE_trendflow"))
            .args(["migrate", "--postgres-url", &url])
            .args(&args)
            .status()
            .expect("run migrate");
        assert!(status.success());
        block_on(async {
            let pool = Pool::postgres(&url).await.expect("connect");
            assert_eq!(pool.applied_migrations().await.expect("applied"), applied);
        });
    }
    drop_database(&url);

    let dir = scratch_dir("sqlite-migrations");
    block_on(async {
        let pool = Pool::sqlite(&dir.join("m.db")).await.expect("open");
        assert_eq!(pool.backend(), Backend::Sqlite);
        check_migrations(&pool).await;
    });
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn readers_only_ever_see_whole_snapshots() {
    let dir = scratch_dir("pg-consistency");
    let input = dir.join("events.jsonl");
    generate(&input, 13, 0, 3_000);
    let url = create_database("consistency");
    // Create the schema before the reader starts.
    drop(SqlSink::postgres(&url).expect("connect"));
    let done = Arc::new(AtomicBool::new(false));
    let reader = {
        let (url, done) = (url.clone(), done.clone());
        std::thread::spawn(move || {
            block_on(async move {
                let pool = sqlx::PgPool::connect(&url).await.expect("reader connects");
                let (mut reads, mut epochs) = (0u64, std::collections::BTreeSet::new());
                while !done.load(Ordering::Relaxed) || reads == 0 {
                    // One statement sees one database snapshot: the daily answers must add up
                    // to the facts.
                    let (answers, facts, epoch): (i64, i64, i64) = sqlx::query_as(
                        "SELECT
                               (SELECT COALESCE(sum(answers), 0)::bigint FROM brand_daily_metrics),
                               (SELECT count(*) FROM metric_facts),
                               (SELECT COALESCE(max(epoch), 0) FROM snapshots)",
                    )
                    .fetch_one(&pool)
                    .await
                    .expect("read");
                    assert_eq!(answers, facts, "daily answers vs facts at epoch {epoch}");
                    epochs.insert(epoch);
                    reads += 1;
                }
                (reads, epochs.len())
            })
        })
    };
    let mut sinks: Vec<Box<dyn Sink>> = vec![Box::new(SqlSink::postgres(&url).expect("connect"))];
    let (_, last) = run_file(&input, 100, 2, &mut sinks);
    done.store(true, Ordering::Relaxed);
    let (reads, epochs_seen) = reader.join().expect("reader");
    assert!(last >= 20, "many snapshots were committed ({last})");
    assert!(
        reads > 10 && epochs_seen > 2,
        "the reader overlapped the writes ({reads} reads, {epochs_seen} epochs)"
    );
    drop(sinks);
    drop_database(&url);
    let _ = std::fs::remove_dir_all(&dir);
}

/// Values that need quoting or escaping on their way into PostgreSQL (list literals, NULLs,
/// empty lists) come back unchanged, and a later snapshot deletes them by key.
#[test]
fn postgres_round_trips_awkward_values_and_deletes_by_key() {
    use dataflows::metrics::{CollectorResultRow, ScoreRow};
    use dataflows::output::Row;
    use dataflows::trends::TrendRow;
    use trendflow::columns::values;
    use trendflow::snapshot::Snapshot;

    let url = create_database("awkward");
    let mut sink = SqlSink::postgres(&url).expect("connect");
    let awkward = [
        "say \"hi\"",
        "back\\slash",
        "a,b",
        "{braces}",
        "NULL",
        "",
        " padded ",
        "ünïcødé ✓",
    ];
    let trend = Row::Trend(TrendRow {
        trend_id: "t\"1\\".into(),
        headline: awkward.join(" | "),
        keywords: awkward.iter().map(|s| s.to_string()).collect(),
        article_count: 3,
        story_count: 2,
        source_count: 1,
        first_published_at: -86_400_000,
        last_published_at: 1_790_000_000_123,
        articles_1h: 1,
        articles_24h: 2,
        rising_score: 1_500_000,
    });
    let empty_trend = Row::Trend(TrendRow {
        trend_id: "t-empty".into(),
        keywords: Vec::new(),
        ..match &trend {
            Row::Trend(t) => t.clone(),
            _ => unreachable!(),
        }
    });
    let score = |result_id: &str, positions: Vec<u32>| {
        Row::BrandMetric(ScoreRow {
            result_id: result_id.into(),
            competitor_id: None,
            competitor_name: None,
            visibility_index: 250_000,
            share_of_answers: 0,
            mentions: positions.len() as u32,
            best_position: positions.iter().min().copied(),
            positions: positions.into(),
        })
    };
    let answer = Row::CollectorResult(CollectorResultRow {
        id: "r,1".into(),
        brand_name: None,
        created_at: 0,
        version: 7,
        raw_answer: None,
    });
    let rows = [
        trend.clone(),
        empty_trend.clone(),
        score("r,1", vec![3, 1, 2]),
        score("r2", Vec::new()),
        answer.clone(),
    ];
    let first = Snapshot::from_net(1, rows.iter().map(|r| (r.clone(), 1)));
    sink.commit(&first).expect("commit awkward rows");
    let read = |sink: &SqlSink, table: Table| {
        sink.block_on(sink.pool().read_table(table))
            .expect("read back")
    };
    for table in [Table::Trends, Table::BrandMetrics, Table::CollectorResults] {
        let mut expected: Vec<_> = rows
            .iter()
            .filter(|r| r.table() == table)
            .map(values)
            .collect();
        trendflow::columns::sort_rows(&mut expected);
        assert_eq!(read(&sink, table), expected, "{}", table.name());
    }

    // Retracting rows deletes them by key, whatever their key's characters.
    let second = Snapshot::from_net(
        2,
        [(trend, -1), (answer, -1), (score("r2", Vec::new()), -1)],
    );
    assert_eq!(
        second
            .tables
            .values()
            .map(|c| c.deletes.len())
            .sum::<usize>(),
        3
    );
    sink.commit(&second).expect("commit deletes");
    assert_eq!(read(&sink, Table::Trends), vec![values(&empty_trend)]);
    assert_eq!(read(&sink, Table::CollectorResults).len(), 0);
    assert_eq!(
        read(&sink, Table::BrandMetrics),
        vec![values(&score("r,1", vec![3, 1, 2]))]
    );
    drop(sink);
    drop_database(&url);
}
