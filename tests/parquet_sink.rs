//! The Parquet sink: exports equal the oracle, readers never see part of a snapshot, a crash mid-export publishes nothing partial.

mod support;

use std::collections::BTreeSet;
use std::fs::File;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::time::Duration;

use arrow::array::{Array, ArrayRef, AsArray};
use arrow::datatypes::{Date32Type, Float64Type, Int64Type, TimestampMillisecondType};
use dataflows::output::Table;
use parquet::arrow::arrow_reader::ParquetRecordBatchReaderBuilder;
use support::*;
use trendflow::columns::{columns, day_column, format_day, ColType, Value};
use trendflow::sinks::parquet::{
    arrow_schema, latest_manifest, manifest_path, Manifest, ParquetOptions, ParquetSink, LATEST,
    MANIFESTS, STAGING,
};
use trendflow::sinks::Sink;

fn options(every: Duration, keep: usize) -> ParquetOptions {
    ParquetOptions {
        keep,
        every,
        // Small row groups, so that files with several row groups are read back too.
        row_group_rows: 300,
        ..ParquetOptions::default()
    }
}

fn open(dir: &Path, options: ParquetOptions) -> Box<dyn Sink> {
    Box::new(ParquetSink::open(dir, options).expect("open parquet sink"))
}

fn cell(array: &ArrayRef, i: usize, ty: ColType) -> Value {
    if array.is_null(i) {
        return Value::Null;
    }
    match ty {
        ColType::Text => Value::Text(array.as_string::<i32>().value(i).to_string()),
        ColType::Int64 => Value::Int64(array.as_primitive::<Int64Type>().value(i)),
        ColType::Float64 => Value::Float64(array.as_primitive::<Float64Type>().value(i)),
        ColType::Date => Value::Date(array.as_primitive::<Date32Type>().value(i)),
        ColType::Timestamp => {
            Value::Timestamp(array.as_primitive::<TimestampMillisecondType>().value(i))
        }
        ColType::TextList => Value::TextList(
            array
                .as_list::<i32>()
                .value(i)
                .as_string::<i32>()
                .iter()
                .map(|s| s.expect("list items are not null").to_string())
                .collect(),
        ),
        ColType::Int64List => Value::Int64List(
            array
                .as_list::<i32>()
                .value(i)
                .as_primitive::<Int64Type>()
                .values()
                .to_vec(),
        ),
    }
}

/// Every row of one Parquet file of `table`, checking its schema.
fn read_file(path: &Path, table: Table) -> Vec<Vec<Value>> {
    let file = File::open(path).unwrap_or_else(|e| panic!("open {}: {e}", path.display()));
    let reader = ParquetRecordBatchReaderBuilder::try_new(file)
        .unwrap_or_else(|e| panic!("{}: {e}", path.display()))
        .build()
        .unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    let cols = columns(table);
    let mut rows = Vec::new();
    for batch in reader {
        let batch = batch.unwrap_or_else(|e| panic!("read {}: {e}", path.display()));
        assert_eq!(
            batch.schema().fields(),
            arrow_schema(table).fields(),
            "{}: schema",
            path.display()
        );
        for i in 0..batch.num_rows() {
            rows.push(
                cols.iter()
                    .enumerate()
                    .map(|(j, c)| cell(batch.column(j), i, c.ty))
                    .collect(),
            );
        }
    }
    rows
}

fn sorted(mut rows: Vec<Vec<Value>>) -> Vec<Vec<Value>> {
    trendflow::columns::sort_rows(&mut rows);
    rows
}

/// Every table of a published snapshot, read from the files its manifest lists. Checks that
/// each file holds the rows the manifest says, and that a day file holds only its day.
fn read_snapshot(dir: &Path, manifest: &Manifest) -> Tables {
    let mut tables = Tables::new();
    for table in Table::ALL {
        let listed = manifest
            .tables
            .get(table.name())
            .unwrap_or_else(|| panic!("manifest {} lacks {}", manifest.epoch, table.name()));
        assert!(!listed.files.is_empty(), "{}: no file", table.name());
        let mut rows = Vec::new();
        for f in &listed.files {
            let file_rows = read_file(&dir.join(&f.path), table);
            assert_eq!(file_rows.len() as u64, f.rows, "{}: row count", f.path);
            if let Some(day) = day_column(table) {
                let i = columns(table)
                    .iter()
                    .position(|c| c.name == day)
                    .expect("day column");
                for r in &file_rows {
                    let Value::Date(d) = r[i] else {
                        panic!("{}: day is not a date", f.path)
                    };
                    assert!(
                        f.path.contains(&format!("/day={}/", format_day(d))),
                        "{}: holds a row of {}",
                        f.path,
                        format_day(d)
                    );
                }
            }
            rows.extend(file_rows);
        }
        assert_eq!(rows.len() as u64, listed.rows, "{}: rows", table.name());
        tables.insert(table, sorted(rows));
    }
    tables
}

fn latest(dir: &Path) -> Manifest {
    latest_manifest(dir)
        .expect("read _latest.json")
        .expect("a published snapshot")
}

/// The `.parquet` files under `dir/<table>/epoch=<epoch>`, relative to `dir`.
fn files_on_disk(dir: &Path, table: Table, epoch: u64) -> std::io::Result<BTreeSet<String>> {
    fn walk(base: &Path, at: &Path, out: &mut BTreeSet<String>) -> std::io::Result<()> {
        for entry in std::fs::read_dir(at)? {
            let path = entry?.path();
            if path.is_dir() {
                walk(base, &path, out)?;
            } else if path.extension().is_some_and(|e| e == "parquet") {
                let rel = path.strip_prefix(base).expect("under base");
                out.insert(rel.to_string_lossy().replace('\\', "/"));
            }
        }
        Ok(())
    }
    let mut out = BTreeSet::new();
    walk(
        dir,
        &dir.join(table.name()).join(format!("epoch={epoch}")),
        &mut out,
    )?;
    Ok(out)
}

fn manifest_epochs(dir: &Path) -> BTreeSet<u64> {
    std::fs::read_dir(dir.join(MANIFESTS))
        .expect("list manifests")
        .filter_map(|e| {
            let name = e.expect("entry").file_name().into_string().ok()?;
            name.strip_prefix("epoch=")?
                .strip_suffix(".json")?
                .parse()
                .ok()
        })
        .collect()
}

fn epoch_dirs(dir: &Path, table: Table) -> BTreeSet<u64> {
    std::fs::read_dir(dir.join(table.name()))
        .expect("list table folder")
        .filter_map(|e| {
            let name = e.expect("entry").file_name().into_string().ok()?;
            name.strip_prefix("epoch=")?.parse().ok()
        })
        .collect()
}

/// What a reader may rely on: the newest manifest's files are all there, complete, and are
/// exactly what a glob of each table's epoch folder finds; every epoch folder has a manifest.
fn assert_published_state(dir: &Path) -> Manifest {
    let manifest = latest(dir);
    let epochs = manifest_epochs(dir);
    assert_eq!(
        epochs.last(),
        Some(&manifest.epoch),
        "_latest.json is newest"
    );
    assert_eq!(
        Manifest::read(&manifest_path(dir, manifest.epoch)).expect("manifest"),
        manifest
    );
    assert!(!dir.join(STAGING).exists(), "staging left behind");
    for table in Table::ALL {
        assert_eq!(
            epoch_dirs(dir, table),
            epochs,
            "{}: epoch folders vs manifests",
            table.name()
        );
        let listed: BTreeSet<String> = manifest.tables[table.name()]
            .files
            .iter()
            .map(|f| f.path.clone())
            .collect();
        assert_eq!(
            files_on_disk(dir, table, manifest.epoch).expect("list"),
            listed,
            "{}: glob vs manifest",
            table.name()
        );
    }
    read_snapshot(dir, &manifest);
    manifest
}

#[test]
fn exports_equal_the_oracle_and_a_rerun_continues_the_epochs() {
    let dir = scratch_dir("parquet-oracle");
    let input = dir.join("events.jsonl");
    generate(&input, 21, 1_500, 2_000);
    let out = dir.join("exports");
    let keep = 2;

    // Every epoch exported; the oldest are retired.
    let mut sinks = vec![open(&out, options(Duration::ZERO, keep))];
    let (memory, last) = run_file(&input, 400, 2, &mut sinks);
    drop(sinks);
    assert!(last >= 8, "several epochs ({last})");
    let manifest = assert_published_state(&out);
    assert_eq!(manifest.epoch, last);
    assert!(manifest.watermark.is_some());
    assert_eq!(
        manifest_epochs(&out),
        (last - keep as u64..=last).collect(),
        "the latest and {keep} older snapshots are kept"
    );
    let expected = expected_tables(&input, &memory);
    assert!(expected[&Table::MetricFacts].len() > 1_000);
    assert!(!expected[&Table::Trends].is_empty());
    assert_tables_eq(&read_snapshot(&out, &manifest), &expected, "parquet");
    // An older kept snapshot is still whole.
    let older = Manifest::read(&manifest_path(&out, last - 1)).expect("older manifest");
    read_snapshot(&out, &older);

    // Reopened, the sink knows its epoch; a second run (an hour's cadence: only `finish`
    // exports) numbers its epochs after it and publishes one snapshot, equal to the oracle's.
    let sink = ParquetSink::open(&out, options(Duration::from_secs(3_600), keep))
        .expect("reopen parquet sink");
    assert_eq!(sink.last_epoch(), last);
    let mut sinks: Vec<Box<dyn Sink>> = vec![Box::new(sink)];
    let (memory2, last2) = run_file(&input, 1_000, 1, &mut sinks);
    drop(sinks);
    assert!(last2 > last + 1, "several epochs ({last} → {last2})");
    let manifest2 = assert_published_state(&out);
    assert_eq!(manifest2.epoch, last2);
    let mut kept: BTreeSet<u64> = (last - keep as u64 + 1..=last).collect();
    kept.insert(last2);
    assert_eq!(manifest_epochs(&out), kept, "one export in the second run");
    assert_tables_eq(
        &read_snapshot(&out, &manifest2),
        &expected_tables(&input, &memory2),
        "parquet rerun",
    );
    let _ = std::fs::remove_dir_all(&dir);
}

/// Outcome of one reader's look at a snapshot found through `_latest.json`.
enum Seen {
    Whole,
    /// Deleted by retention while being read: allowed only once `keep` newer snapshots exist.
    Retired,
}

/// Reads the snapshot of `manifest` like a reader would: the glob of each table's epoch
/// folder, then every file, pausing before each table. A missing file is allowed only if
/// retention has retired the snapshot.
fn read_as_reader(dir: &Path, manifest: &Manifest, keep: usize, pause: Duration) -> Seen {
    let retired = || {
        let newer = manifest_epochs(dir)
            .into_iter()
            .filter(|e| *e > manifest.epoch)
            .count();
        !manifest_path(dir, manifest.epoch).exists() && newer > keep
    };
    for table in Table::ALL {
        std::thread::sleep(pause);
        let listed = &manifest.tables[table.name()];
        let globbed = match files_on_disk(dir, table, manifest.epoch) {
            Ok(files) => files,
            Err(_) if retired() => return Seen::Retired,
            Err(e) => panic!("epoch {}: {}: {e}", manifest.epoch, table.name()),
        };
        let expected: BTreeSet<String> = listed.files.iter().map(|f| f.path.clone()).collect();
        if globbed != expected {
            assert!(
                retired(),
                "epoch {}: {}: glob finds {globbed:?}, manifest lists {expected:?}",
                manifest.epoch,
                table.name()
            );
            return Seen::Retired;
        }
        for f in &listed.files {
            let path = dir.join(&f.path);
            let Ok(file) = File::open(&path) else {
                assert!(retired(), "epoch {}: {} missing", manifest.epoch, f.path);
                return Seen::Retired;
            };
            // An open file stays readable after retention unlinks it.
            let rows: usize = ParquetRecordBatchReaderBuilder::try_new(file)
                .and_then(|b| b.build())
                .unwrap_or_else(|e| panic!("{}: {e}", f.path))
                .map(|b| b.expect("batch").num_rows())
                .sum();
            assert_eq!(rows as u64, f.rows, "epoch {}: {}", manifest.epoch, f.path);
        }
    }
    Seen::Whole
}

#[test]
fn readers_never_see_a_partial_snapshot() {
    let dir = scratch_dir("parquet-readers");
    let input = dir.join("events.jsonl");
    generate(&input, 22, 800, 1_000);
    let out = dir.join("exports");
    let keep = 2;
    let sink = ParquetSink::open(&out, options(Duration::ZERO, keep)).expect("open");
    let done = Arc::new(AtomicBool::new(false));

    let reader = {
        let (out, done) = (out.clone(), done.clone());
        std::thread::spawn(move || {
            let (mut whole, mut retired, mut last_seen) = (0, 0, 0);
            loop {
                let finished = done.load(Ordering::SeqCst);
                if let Some(m) = latest_manifest(&out).expect("_latest.json is always whole") {
                    assert!(m.epoch >= last_seen, "the latest epoch never goes back");
                    if m.epoch > last_seen {
                        last_seen = m.epoch;
                        // Every 8th snapshot is read slowly, so that retention can
                        // overtake the reader.
                        let pause = if m.epoch % 8 == 0 {
                            Duration::from_millis(150)
                        } else {
                            Duration::ZERO
                        };
                        match read_as_reader(&out, &m, keep, pause) {
                            Seen::Whole => whole += 1,
                            Seen::Retired => retired += 1,
                        }
                    }
                }
                if finished {
                    return (whole, retired, last_seen);
                }
                std::thread::sleep(Duration::from_millis(1));
            }
        })
    };
    let mut sinks: Vec<Box<dyn Sink>> = vec![Box::new(sink)];
    let (memory, last) = run_file(&input, 30, 2, &mut sinks);
    done.store(true, Ordering::SeqCst);
    let (whole, retired, last_seen) = reader.join().expect("reader thread");
    drop(sinks);
    eprintln!(
        "{last} snapshots written; the reader read {whole} whole, {retired} retired while read"
    );
    assert!(last >= 50, "many snapshots ({last})");
    assert_eq!(last_seen, last, "the reader saw the final snapshot");
    assert!(
        whole >= 5,
        "the reader read several whole snapshots ({whole})"
    );
    let manifest = assert_published_state(&out);
    assert_tables_eq(
        &read_snapshot(&out, &manifest),
        &expected_tables(&input, &memory),
        "parquet after concurrent reads",
    );
    let _ = std::fs::remove_dir_all(&dir);
}

const CHILD_DIR: &str = "TRENDFLOW_TEST_PARQUET_CHILD_DIR";
const CHILD_INPUT: &str = "TRENDFLOW_TEST_PARQUET_CHILD_INPUT";
const CHILD_CRASH_AFTER: &str = "TRENDFLOW_TEST_PARQUET_CHILD_CRASH_AFTER";
const CRASH_EPOCH_EVENTS: usize = 150;

/// Not a test on its own: `a_crash_during_export_publishes_nothing_partial` runs this test
/// binary again with only this test and the `CHILD_*` variables set, and the child exports
/// until `crash_after_writes` aborts it. Without the variables it does nothing.
#[test]
fn crash_child() {
    let (Ok(dir), Ok(input), Ok(after)) = (
        std::env::var(CHILD_DIR),
        std::env::var(CHILD_INPUT),
        std::env::var(CHILD_CRASH_AFTER),
    ) else {
        return;
    };
    let options = ParquetOptions {
        crash_after_writes: Some(after.parse().expect("crash point")),
        ..options(Duration::ZERO, 3)
    };
    let mut sinks = vec![open(Path::new(&dir), options)];
    run_file(Path::new(&input), CRASH_EPOCH_EVENTS, 1, &mut sinks);
    panic!("the crash point {after} was never reached");
}

fn run_crashing_child(dir: &Path, input: &Path, crash_after: usize) {
    let output = Command::new(std::env::current_exe().expect("test binary"))
        .args([
            "crash_child",
            "--exact",
            "--nocapture",
            "--test-threads",
            "1",
        ])
        .env(CHILD_DIR, dir)
        .env(CHILD_INPUT, input)
        .env(CHILD_CRASH_AFTER, crash_after.to_string())
        .output()
        .expect("run the child test process");
    // Killed by SIGABRT: no exit code (a panic would exit with 101).
    assert!(
        output.status.code().is_none(),
        "the child must abort mid-export, not exit ({}):\n{}",
        output.status,
        String::from_utf8_lossy(&output.stderr)
    );
}

#[test]
fn a_crash_during_export_publishes_nothing_partial() {
    let dir = scratch_dir("parquet-crash");
    let input = dir.join("events.jsonl");
    generate(&input, 23, 600, 600);

    // An uninterrupted run, keeping every snapshot: the reference, and the count of writes
    // of each export (its files, one rename per table, the manifest and `_latest.json`).
    let reference = dir.join("reference");
    let mut sinks = vec![open(&reference, options(Duration::ZERO, 1_000))];
    let (_, last) = run_file(&input, CRASH_EPOCH_EVENTS, 1, &mut sinks);
    drop(sinks);
    assert!(last >= 4, "several epochs ({last})");
    let writes = |epoch: u64| {
        let m = Manifest::read(&manifest_path(&reference, epoch)).expect("reference manifest");
        m.tables.values().map(|t| t.files.len()).sum::<usize>() + Table::ALL.len() + 2
    };
    let crash_epoch = 3;
    let before: usize = (1..crash_epoch).map(writes).sum();
    let files = writes(crash_epoch) - Table::ALL.len() - 2;

    // (name, crash after this many writes, newest published epoch after the crash)
    let cases = [
        ("while-writing-files", before + 2, crash_epoch - 1),
        ("while-renaming", before + files + 5, crash_epoch - 1),
        (
            "before-latest",
            before + files + Table::ALL.len() + 1,
            crash_epoch,
        ),
    ];
    for (name, crash_after, published) in cases {
        let out = dir.join(name);
        run_crashing_child(&out, &input, crash_after);
        // What the crash left: never a newer `_latest.json` than the complete snapshots.
        assert_eq!(latest(&out).epoch, crash_epoch - 1, "{name}: _latest.json");
        match name {
            "while-writing-files" => assert!(out.join(STAGING).exists(), "{name}"),
            "while-renaming" => assert!(
                Table::ALL
                    .iter()
                    .any(|t| epoch_dirs(&out, *t).contains(&crash_epoch)),
                "{name}: some table folders were moved in"
            ),
            _ => assert!(manifest_path(&out, crash_epoch).exists(), "{name}"),
        }

        // Reopening removes what is not published and repairs `_latest.json`.
        let sink = ParquetSink::open(&out, options(Duration::ZERO, 3)).expect("reopen");
        assert_eq!(sink.last_epoch(), published, "{name}: last epoch");
        let manifest = assert_published_state(&out);
        assert_eq!(manifest.epoch, published, "{name}");
        let reference_manifest =
            Manifest::read(&manifest_path(&reference, published)).expect("reference manifest");
        assert_tables_eq(
            &read_snapshot(&out, &manifest),
            &read_snapshot(&reference, &reference_manifest),
            name,
        );

        // A new run publishes a correct snapshot after the recovered one.
        let mut sinks: Vec<Box<dyn Sink>> = vec![Box::new(sink)];
        let (memory, last) = run_file(&input, 400, 2, &mut sinks);
        drop(sinks);
        assert!(last > published);
        let manifest = assert_published_state(&out);
        assert_eq!(manifest.epoch, last);
        assert_tables_eq(
            &read_snapshot(&out, &manifest),
            &expected_tables(&input, &memory),
            name,
        );
    }
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn an_epoch_not_after_the_published_one_is_refused() {
    let dir = scratch_dir("parquet-epochs");
    let input = dir.join("events.jsonl");
    generate(&input, 24, 200, 200);
    let out = dir.join("exports");
    let mut sinks = vec![open(&out, options(Duration::ZERO, 0))];
    let (_, last) = run_file(&input, 100, 1, &mut sinks);
    drop(sinks);
    assert_eq!(manifest_epochs(&out), BTreeSet::from([last]), "keep 0");
    assert_published_state(&out);

    let mut sink = ParquetSink::open(&out, options(Duration::ZERO, 0)).expect("reopen");
    let snapshot = trendflow::snapshot::Snapshot {
        epoch: last,
        ..Default::default()
    };
    let err = sink.commit(&snapshot).expect_err("an old epoch");
    assert!(!err.retryable);
    assert!(err.message.contains(&format!("epoch {last}")), "{err}");
    // The next epoch is accepted, and the same epoch again (a retry) too.
    let next = trendflow::snapshot::Snapshot {
        epoch: last + 1,
        ..Default::default()
    };
    sink.commit(&next).expect("next epoch");
    sink.commit(&next).expect("retried epoch");
    assert_eq!(latest(&out).epoch, last + 1);
    assert_eq!(sink.last_epoch(), last + 1);
    let _ = std::fs::remove_dir_all(&dir);
}

/// Whether python3 can import duckdb and pyarrow, installing them once with pip if not.
fn python_readers() -> bool {
    let importable = || {
        Command::new("python3")
            .args(["-c", "import duckdb, pyarrow"])
            .output()
            .is_ok_and(|o| o.status.success())
    };
    if importable() {
        return true;
    }
    let installed = Command::new("python3")
        .args(["-m", "pip", "install", "-q", "duckdb", "pyarrow"])
        .output()
        .is_ok_and(|o| o.status.success());
    installed && importable()
}

fn check_script(dir: &Path) -> std::process::Output {
    let script = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("scripts/check_parquet.py");
    Command::new("python3")
        .arg(script)
        .arg(dir)
        .output()
        .expect("run scripts/check_parquet.py")
}

#[test]
fn duckdb_and_pyarrow_read_the_latest_snapshot() {
    if !python_readers() {
        eprintln!(
            "SKIPPED duckdb_and_pyarrow_read_the_latest_snapshot: python3 with duckdb and \
             pyarrow is not available and `python3 -m pip install duckdb pyarrow` failed"
        );
        return;
    }
    let dir = scratch_dir("parquet-python");
    let input = dir.join("events.jsonl");
    generate(&input, 25, 800, 1_200);
    let out = dir.join("exports");
    let mut sinks = vec![open(&out, options(Duration::ZERO, 1))];
    let (memory, _) = run_file(&input, 300, 2, &mut sinks);
    drop(sinks);

    let output = check_script(&out);
    let stdout = String::from_utf8_lossy(&output.stdout);
    assert!(
        output.status.success(),
        "check_parquet.py failed:\n{stdout}\n{}",
        String::from_utf8_lossy(&output.stderr)
    );
    let expected = expected_tables(&input, &memory);
    for table in Table::ALL {
        let n = expected[&table].len();
        assert!(
            stdout
                .lines()
                .any(|l| l.split_whitespace().collect::<Vec<_>>()
                    == [table.name(), &n.to_string(), &n.to_string(), &n.to_string()]),
            "{}: {n} rows in each reader:\n{stdout}",
            table.name()
        );
    }
    let facts = expected[&Table::MetricFacts].len();
    assert!(
        stdout.contains(&format!("count of metric_facts: {facts}")),
        "{stdout}"
    );

    // A manifest that disagrees with the files is reported.
    let latest_path = out.join(LATEST);
    let mut manifest = latest(&out);
    if let Some(t) = manifest.tables.get_mut(Table::Trends.name()) {
        t.rows += 1;
    }
    std::fs::write(
        &latest_path,
        serde_json::to_vec(&manifest).expect("manifest json"),
    )
    .expect("write _latest.json");
    let output = check_script(&out);
    assert!(
        !output.status.success(),
        "a wrong row count must fail:\n{}",
        String::from_utf8_lossy(&output.stdout)
    );
    let _ = std::fs::remove_dir_all(&dir);
}
