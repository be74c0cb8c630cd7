//! Parquet exports (SPEC 4.3): consistent, atomically published snapshots of every output table.

use std::collections::{BTreeMap, BTreeSet};
use std::fmt::{Display, Write as _};
use std::fs::{self, File};
use std::io::Write as _;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::{Duration, Instant};

use arrow::array::{
    ArrayRef, ArrowPrimitiveType, Int64Builder, ListBuilder, PrimitiveBuilder, StringBuilder,
};
use arrow::datatypes::{
    DataType, Date32Type, Field, Float64Type, Int64Type, Schema, SchemaRef, TimeUnit,
    TimestampMillisecondType,
};
use arrow::record_batch::RecordBatch;
use parquet::arrow::ArrowWriter;
use parquet::basic::{Compression, ZstdLevel};
use parquet::file::properties::WriterProperties;
use serde::{Deserialize, Serialize};

use dataflows::output::{Row, Table};

use super::memory::MemorySink;
use super::{Sink, SinkError};
use crate::columns::{columns, day_column, format_day, values, ColType, Column, Value};
use crate::snapshot::{Snapshot, SourceOffset};

const SINK: &str = "parquet";

/// A copy of the newest manifest, in the export folder: where readers start.
pub const LATEST: &str = "_latest.json";
/// The folder of the manifests, one per published snapshot: `_manifests/epoch=<E>.json`.
pub const MANIFESTS: &str = "_manifests";
/// Where a snapshot is written before it is published (readers' globs skip `_` names).
pub const STAGING: &str = "_staging";
/// The `day=` partition of a day table that has no rows (Hive's name for a null partition).
pub const NULL_DAY: &str = "__HIVE_DEFAULT_PARTITION__";
/// The version of the manifest format.
pub const MANIFEST_FORMAT: u32 = 1;
/// The name of every data file (one file per partition; row groups bound its memory).
pub const PART_FILE: &str = "part-00000.parquet";

/// How and when [`ParquetSink`] exports.
#[derive(Clone, Debug)]
pub struct ParquetOptions {
    /// Older snapshots kept readable besides the latest.
    pub keep: usize,
    /// Time between exports; `Duration::ZERO` exports every epoch. `finish` always exports.
    pub every: Duration,
    /// Largest number of rows in one row group.
    pub row_group_rows: usize,
    /// Compression of every column.
    pub compression: Compression,
    /// TEST ONLY: abort the process (no cleanup, as `kill -9` would) right after this many
    /// export writes since `open`. A write is a data file written and fsynced, a table folder
    /// renamed into place, or a manifest (`_manifests/epoch=E.json`, then `_latest.json`)
    /// renamed into place. Used by the crash tests; `None` in every real configuration.
    pub crash_after_writes: Option<usize>,
}

impl Default for ParquetOptions {
    fn default() -> Self {
        ParquetOptions {
            keep: 3,
            every: Duration::from_secs(10),
            row_group_rows: 128 * 1024,
            compression: Compression::ZSTD(ZstdLevel::default()),
            crash_after_writes: None,
        }
    }
}

/// What one published snapshot holds; written as `_manifests/epoch=<E>.json` and `_latest.json`.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Manifest {
    pub format: u32,
    pub epoch: u64,
    /// The event-time watermark of the snapshot (ms since the epoch), once any article was seen.
    pub watermark: Option<i64>,
    /// When the snapshot was published (RFC 3339, UTC).
    pub committed_at: String,
    /// Every output table by name, empty ones included.
    pub tables: BTreeMap<String, ExportedTable>,
    /// Where each source partition resumes after this snapshot (empty for file inputs).
    #[serde(default)]
    pub offsets: Vec<ExportedOffset>,
}

/// One table of a published snapshot.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct ExportedTable {
    /// The table's folder for this epoch, relative to the export folder (`<table>/epoch=<E>`).
    pub dir: String,
    pub rows: u64,
    pub files: Vec<ExportedFile>,
}

/// One data file of a published snapshot.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct ExportedFile {
    /// Relative to the export folder, `/`-separated.
    pub path: String,
    pub rows: u64,
    pub bytes: u64,
}

/// A source position stored with a snapshot.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct ExportedOffset {
    pub source: String,
    pub partition: i32,
    pub next_offset: i64,
}

impl Manifest {
    /// Reads a manifest file (`_latest.json` or `_manifests/epoch=<E>.json`).
    pub fn read(path: &Path) -> Result<Manifest, SinkError> {
        let bytes = fs::read(path).map_err(|e| io_error(format!("read {}", path.display()), e))?;
        serde_json::from_slice(&bytes).map_err(|e| SinkError {
            sink: SINK,
            message: format!("{}: not a manifest: {e}", path.display()),
            retryable: false,
        })
    }

    /// The total rows of every table.
    pub fn rows(&self) -> u64 {
        self.tables.values().map(|t| t.rows).sum()
    }
}

/// The newest published snapshot of an export folder, if any (what readers should read).
pub fn latest_manifest(dir: &Path) -> Result<Option<Manifest>, SinkError> {
    let path = dir.join(LATEST);
    if !path.exists() {
        return Ok(None);
    }
    Manifest::read(&path).map(Some)
}

/// The manifest file of `epoch`.
pub fn manifest_path(dir: &Path, epoch: u64) -> PathBuf {
    dir.join(MANIFESTS).join(format!("epoch={epoch}.json"))
}

/// The Arrow type of a column type.
pub fn arrow_type(ty: ColType) -> DataType {
    match ty {
        ColType::Text => DataType::Utf8,
        ColType::Int64 => DataType::Int64,
        ColType::Float64 => DataType::Float64,
        ColType::Date => DataType::Date32,
        ColType::Timestamp => DataType::Timestamp(TimeUnit::Millisecond, Some("UTC".into())),
        ColType::TextList => DataType::List(Arc::new(list_item(DataType::Utf8))),
        ColType::Int64List => DataType::List(Arc::new(list_item(DataType::Int64))),
    }
}

/// List items are never null.
fn list_item(ty: DataType) -> Field {
    Field::new_list_field(ty, false)
}

/// The Arrow schema of a table's files: its columns in order, the day column included.
pub fn arrow_schema(table: Table) -> SchemaRef {
    let fields: Vec<Field> = columns(table)
        .iter()
        .map(|c| Field::new(c.name, arrow_type(c.ty), c.nullable))
        .collect();
    Arc::new(Schema::new(fields))
}

/// Keeps the full current state of every table and publishes it as Parquet snapshots.
///
/// Layout under `dir`: `<table>/epoch=<E>/part-00000.parquet`, or for a table with a day
/// column `<table>/epoch=<E>/day=YYYY-MM-DD/part-00000.parquet` (the day stays a column of the
/// files too); manifests in `_manifests/epoch=<E>.json`, the newest copied to `_latest.json`.
/// An export writes everything under `_staging/epoch=<E>/`, fsyncs it, renames each table's
/// folder into place, and then writes the manifest: a snapshot without a manifest is not
/// published, and `open` deletes it. See `schemas/parquet.md` for readers.
pub struct ParquetSink {
    dir: PathBuf,
    options: ParquetOptions,
    state: MemorySink,
    /// The epoch of the last snapshot given to `commit`.
    applied: Option<u64>,
    watermark: Option<i64>,
    offsets: BTreeMap<(String, i32), i64>,
    /// The newest published snapshot (read at `open`, then each export's).
    published: Option<Manifest>,
    /// Whether `_latest.json` holds `published`.
    latest_written: bool,
    /// Whether `state` has changes that no export holds yet.
    pending: bool,
    last_export: Instant,
    writes: WriteCounter,
}

/// Counts export writes since `open`, for `ParquetOptions::crash_after_writes` (test only).
struct WriteCounter {
    count: usize,
    crash_after: Option<usize>,
}

impl WriteCounter {
    fn wrote(&mut self) {
        self.count += 1;
        if self.crash_after.is_some_and(|n| self.count >= n) {
            std::process::abort();
        }
    }
}

impl ParquetSink {
    /// Opens (or creates) an export folder. Removes what a crash left unpublished: the staging
    /// folder, temporary manifests, and epoch folders that no manifest lists. The in-memory
    /// tables start empty: a run recomputes them (file input) or rebuilds them through
    /// `restore` (replayed input); published snapshots are never read back.
    pub fn open(dir: &Path, options: ParquetOptions) -> Result<Self, SinkError> {
        if options.row_group_rows == 0 {
            return Err(SinkError {
                sink: SINK,
                message: format!("{}: row_group_rows must be at least 1", dir.display()),
                retryable: false,
            });
        }
        create_dir(dir)?;
        let staging = dir.join(STAGING);
        if staging.exists() {
            fs::remove_dir_all(&staging)
                .map_err(|e| io_error(format!("remove {}", staging.display()), e))?;
        }
        let manifests = dir.join(MANIFESTS);
        create_dir(&manifests)?;
        for table in Table::ALL {
            create_dir(&dir.join(table.name()))?;
        }
        remove_temp_files(dir)?;
        remove_temp_files(&manifests)?;
        sync_dir(dir)?;

        let epochs = manifest_epochs(dir)?;
        remove_unlisted_epochs(dir, &epochs)?;
        let published = match epochs.last() {
            Some(epoch) => Some(Manifest::read(&manifest_path(dir, *epoch))?),
            None => None,
        };
        // `_latest.json` must copy the newest manifest (a crash may have come in between).
        let latest_path = dir.join(LATEST);
        let latest_epoch = Manifest::read(&latest_path).ok().map(|m| m.epoch);
        match &published {
            Some(m) if latest_epoch != Some(m.epoch) => write_json_atomic(dir, LATEST, m)?,
            None if latest_path.exists() => {
                fs::remove_file(&latest_path)
                    .map_err(|e| io_error(format!("remove {}", latest_path.display()), e))?;
                sync_dir(dir)?;
            }
            _ => {}
        }
        let offsets = published
            .iter()
            .flat_map(|m| &m.offsets)
            .map(|o| ((o.source.clone(), o.partition), o.next_offset))
            .collect();
        tracing::debug!(
            dir = %dir.display(),
            epoch = published.as_ref().map_or(0, |m| m.epoch),
            "parquet export folder opened"
        );
        Ok(ParquetSink {
            dir: dir.to_path_buf(),
            state: MemorySink::default(),
            applied: None,
            watermark: None,
            offsets,
            published,
            latest_written: true,
            pending: false,
            last_export: Instant::now(),
            writes: WriteCounter {
                count: 0,
                crash_after: options.crash_after_writes,
            },
            options,
        })
    }

    /// The export folder.
    pub fn dir(&self) -> &Path {
        &self.dir
    }

    /// The newest published snapshot.
    pub fn published(&self) -> Option<&Manifest> {
        self.published.as_ref()
    }

    fn published_epoch(&self) -> Option<u64> {
        self.published.as_ref().map(|m| m.epoch)
    }

    /// Publishes the state as of the last applied epoch, finishing a half-done publish first.
    fn export(&mut self) -> Result<(), SinkError> {
        let Some(epoch) = self.applied else {
            return Ok(());
        };
        if self.published_epoch().is_none_or(|p| p < epoch) {
            let started = Instant::now();
            let manifest = self.write_snapshot(epoch)?;
            tracing::debug!(
                epoch,
                rows = manifest.rows(),
                ms = started.elapsed().as_millis() as u64,
                "parquet snapshot published"
            );
            self.published = Some(manifest);
            self.latest_written = false;
        }
        if !self.latest_written {
            if let Some(m) = &self.published {
                write_json_atomic(&self.dir, LATEST, m)?;
            }
            self.writes.wrote();
            self.latest_written = true;
        }
        self.retire_old_snapshots()?;
        self.pending = false;
        self.last_export = Instant::now();
        Ok(())
    }

    /// Writes every table under `_staging`, moves each into place, then writes the manifest.
    fn write_snapshot(&mut self, epoch: u64) -> Result<Manifest, SinkError> {
        let staging_root = self.dir.join(STAGING);
        let staging = staging_root.join(format!("epoch={epoch}"));
        if staging_root.exists() {
            // Left by a failed export: this sink is the folder's only writer.
            fs::remove_dir_all(&staging_root)
                .map_err(|e| io_error(format!("remove {}", staging_root.display()), e))?;
        }
        create_dir(&staging)?;
        let mut tables = BTreeMap::new();
        for table in Table::ALL {
            let files = self.stage_table(&staging, table, epoch)?;
            let exported = ExportedTable {
                dir: format!("{}/epoch={epoch}", table.name()),
                rows: files.iter().map(|f| f.rows).sum(),
                files,
            };
            tables.insert(table.name().to_string(), exported);
        }
        sync_dir(&staging)?;
        sync_dir(&staging_root)?;

        for table in Table::ALL {
            let table_dir = self.dir.join(table.name());
            let target = table_dir.join(format!("epoch={epoch}"));
            if target.exists() {
                // Left by a failed attempt at this epoch; no manifest lists it.
                fs::remove_dir_all(&target)
                    .map_err(|e| io_error(format!("remove {}", target.display()), e))?;
            }
            let from = staging.join(table.name());
            fs::rename(&from, &target).map_err(|e| {
                io_error(
                    format!("rename {} to {}", from.display(), target.display()),
                    e,
                )
            })?;
            sync_dir(&table_dir)?;
            self.writes.wrote();
        }
        for emptied in [&staging, &staging_root] {
            fs::remove_dir(emptied)
                .map_err(|e| io_error(format!("remove {}", emptied.display()), e))?;
        }
        sync_dir(&self.dir)?;

        let manifest = Manifest {
            format: MANIFEST_FORMAT,
            epoch,
            watermark: self.watermark,
            committed_at: chrono::Utc::now().to_rfc3339_opts(chrono::SecondsFormat::Millis, true),
            tables,
            offsets: self
                .offsets
                .iter()
                .map(|((source, partition), next)| ExportedOffset {
                    source: source.clone(),
                    partition: *partition,
                    next_offset: *next,
                })
                .collect(),
        };
        write_json_atomic(
            &self.dir.join(MANIFESTS),
            &format!("epoch={epoch}.json"),
            &manifest,
        )?;
        self.writes.wrote();
        Ok(manifest)
    }

    /// Writes one table's files under `staging/<table>/`; returns them with their final paths.
    fn stage_table(
        &mut self,
        staging: &Path,
        table: Table,
        epoch: u64,
    ) -> Result<Vec<ExportedFile>, SinkError> {
        let rows: Vec<&Row> = self
            .state
            .tables
            .get(&table)
            .map(|t| t.values().collect())
            .unwrap_or_default();
        // (partition folder under `<table>/epoch=<E>/`, its rows)
        let partitions: Vec<(String, Vec<&Row>)> = match day_index(table) {
            None => vec![(String::new(), rows)],
            Some(i) => {
                let mut by_day: BTreeMap<i32, Vec<&Row>> = BTreeMap::new();
                for row in rows {
                    by_day.entry(day_of(table, row, i)?).or_default().push(row);
                }
                if by_day.is_empty() {
                    vec![(format!("day={NULL_DAY}/"), Vec::new())]
                } else {
                    by_day
                        .into_iter()
                        .map(|(day, rows)| (format!("day={}/", format_day(day)), rows))
                        .collect()
                }
            }
        };
        let table_dir = staging.join(table.name());
        create_dir(&table_dir)?;
        let mut files = Vec::with_capacity(partitions.len());
        for (partition, rows) in partitions {
            let folder = table_dir.join(&partition);
            create_dir(&folder)?;
            let path = folder.join(PART_FILE);
            let bytes = write_file(&path, table, &rows, &self.options)?;
            self.writes.wrote();
            sync_dir(&folder)?;
            files.push(ExportedFile {
                path: format!("{}/epoch={epoch}/{partition}{PART_FILE}", table.name()),
                rows: rows.len() as u64,
                bytes,
            });
        }
        sync_dir(&table_dir)?;
        Ok(files)
    }

    /// Retention: keeps the newest `keep + 1` manifests, deleting older manifests first and
    /// then every epoch folder that no kept manifest lists.
    fn retire_old_snapshots(&mut self) -> Result<(), SinkError> {
        let epochs = manifest_epochs(&self.dir)?;
        let keep = self.options.keep.saturating_add(1);
        let old = epochs.len().saturating_sub(keep);
        for epoch in epochs.iter().take(old) {
            let path = manifest_path(&self.dir, *epoch);
            fs::remove_file(&path)
                .map_err(|e| io_error(format!("remove {}", path.display()), e))?;
        }
        if old > 0 {
            sync_dir(&self.dir.join(MANIFESTS))?;
        }
        let kept: BTreeSet<u64> = epochs.into_iter().skip(old).collect();
        remove_unlisted_epochs(&self.dir, &kept)
    }

    fn apply(&mut self, snapshot: &Snapshot) -> Result<(), SinkError> {
        self.state.commit(snapshot)?;
        self.watermark = snapshot.watermark.or(self.watermark);
        Ok(())
    }
}

impl Sink for ParquetSink {
    fn name(&self) -> &'static str {
        SINK
    }

    /// Applies the snapshot to the in-memory tables and exports when the cadence says so.
    /// Committing the same epoch again (a retry) is harmless: upserts and deletes by key are
    /// idempotent, and an export resumes where it failed.
    fn commit(&mut self, snapshot: &Snapshot) -> Result<(), SinkError> {
        if snapshot.replay {
            return self.restore(snapshot);
        }
        let retry = self.applied == Some(snapshot.epoch);
        let newest = self.applied.max(self.published_epoch());
        if !retry && newest.is_some_and(|n| snapshot.epoch <= n) {
            return Err(SinkError {
                sink: SINK,
                message: format!(
                    "{}: snapshot epoch {} is not after epoch {} already held",
                    self.dir.display(),
                    snapshot.epoch,
                    newest.unwrap_or_default()
                ),
                retryable: false,
            });
        }
        self.apply(snapshot)?;
        for o in &snapshot.offsets {
            self.offsets
                .insert((o.source.clone(), o.partition), o.next_offset);
        }
        self.applied = Some(snapshot.epoch);
        self.pending = true;
        if self.options.every.is_zero() || self.last_export.elapsed() >= self.options.every {
            self.export()?;
        }
        Ok(())
    }

    fn last_epoch(&self) -> u64 {
        self.applied.max(self.published_epoch()).unwrap_or(0)
    }

    /// The offsets of the newest published snapshot.
    fn stored_offsets(&self) -> Vec<SourceOffset> {
        self.published
            .iter()
            .flat_map(|m| &m.offsets)
            .map(|o| SourceOffset {
                source: o.source.clone(),
                partition: o.partition,
                next_offset: o.next_offset,
            })
            .collect()
    }

    /// Rebuilds the in-memory tables from replayed input; exports nothing.
    fn restore(&mut self, snapshot: &Snapshot) -> Result<(), SinkError> {
        self.apply(snapshot)
    }

    fn finish(&mut self) -> Result<(), SinkError> {
        if self.pending || !self.latest_written {
            self.export()?;
        }
        Ok(())
    }
}

/// Writes `rows` of `table` to a new Parquet file and fsyncs it; returns its size.
fn write_file(
    path: &Path,
    table: Table,
    rows: &[&Row],
    options: &ParquetOptions,
) -> Result<u64, SinkError> {
    let what = || format!("write {}", path.display());
    let file = File::create(path).map_err(|e| io_error(what(), e))?;
    let properties = WriterProperties::builder()
        .set_compression(options.compression)
        .set_max_row_group_row_count(Some(options.row_group_rows))
        .build();
    let schema = arrow_schema(table);
    let mut writer = ArrowWriter::try_new(&file, schema.clone(), Some(properties))
        .map_err(|e| io_error(what(), e))?;
    for chunk in rows.chunks(options.row_group_rows) {
        let batch = record_batch(table, &schema, chunk).map_err(|message| SinkError {
            sink: SINK,
            message,
            retryable: false,
        })?;
        writer.write(&batch).map_err(|e| io_error(what(), e))?;
    }
    writer.close().map_err(|e| io_error(what(), e))?;
    file.sync_all().map_err(|e| io_error(what(), e))?;
    let bytes = file.metadata().map_err(|e| io_error(what(), e))?.len();
    Ok(bytes)
}

/// The position of the table's day column, if it has one.
fn day_index(table: Table) -> Option<usize> {
    let day = day_column(table)?;
    columns(table).iter().position(|c| c.name == day)
}

fn day_of(table: Table, row: &Row, index: usize) -> Result<i32, SinkError> {
    match values(row).get(index) {
        Some(Value::Date(day)) => Ok(*day),
        other => Err(SinkError {
            sink: SINK,
            message: format!("{}: day column holds {other:?}, not a date", table.name()),
            retryable: false,
        }),
    }
}

/// One record batch of `rows`, typed by the table's columns.
fn record_batch(table: Table, schema: &SchemaRef, rows: &[&Row]) -> Result<RecordBatch, String> {
    let cols = columns(table);
    let rows: Vec<Vec<Value>> = rows.iter().map(|r| values(r)).collect();
    if let Some(bad) = rows.iter().find(|r| r.len() != cols.len()) {
        return Err(format!(
            "{}: a row has {} values for {} columns",
            table.name(),
            bad.len(),
            cols.len()
        ));
    }
    let arrays = cols
        .iter()
        .enumerate()
        .map(|(j, col)| column_array(table, col, rows.iter().map(|r| &r[j])))
        .collect::<Result<Vec<ArrayRef>, String>>()?;
    RecordBatch::try_new(schema.clone(), arrays).map_err(|e| format!("{}: {e}", table.name()))
}

/// One column's values as an Arrow array of the column's type.
fn column_array<'a>(
    table: Table,
    col: &Column,
    cells: impl Iterator<Item = &'a Value>,
) -> Result<ArrayRef, String> {
    let mismatch = |v: &Value| {
        format!(
            "{}.{}: value {v:?} does not fit a {}{:?} column",
            table.name(),
            col.name,
            if col.nullable { "nullable " } else { "" },
            col.ty
        )
    };
    match col.ty {
        ColType::Text => {
            let mut b = StringBuilder::new();
            for v in cells {
                match v {
                    Value::Text(s) => b.append_value(s),
                    Value::Null if col.nullable => b.append_null(),
                    v => return Err(mismatch(v)),
                }
            }
            Ok(Arc::new(b.finish()))
        }
        ColType::Int64 => {
            primitive::<Int64Type>(PrimitiveBuilder::new(), col, cells, mismatch, |v| match v {
                Value::Int64(x) => Some(*x),
                _ => None,
            })
        }
        ColType::Float64 => {
            primitive::<Float64Type>(PrimitiveBuilder::new(), col, cells, mismatch, |v| match v {
                Value::Float64(x) => Some(*x),
                _ => None,
            })
        }
        ColType::Date => {
            primitive::<Date32Type>(PrimitiveBuilder::new(), col, cells, mismatch, |v| match v {
                Value::Date(x) => Some(*x),
                _ => None,
            })
        }
        ColType::Timestamp => primitive::<TimestampMillisecondType>(
            PrimitiveBuilder::new().with_timezone("UTC"),
            col,
            cells,
            mismatch,
            |v| match v {
                Value::Timestamp(x) => Some(*x),
                _ => None,
            },
        ),
        ColType::TextList => {
            let mut b =
                ListBuilder::new(StringBuilder::new()).with_field(list_item(DataType::Utf8));
            for v in cells {
                match v {
                    Value::TextList(items) => {
                        for s in items {
                            b.values().append_value(s);
                        }
                        b.append(true);
                    }
                    Value::Null if col.nullable => b.append(false),
                    v => return Err(mismatch(v)),
                }
            }
            Ok(Arc::new(b.finish()))
        }
        ColType::Int64List => {
            let mut b =
                ListBuilder::new(Int64Builder::new()).with_field(list_item(DataType::Int64));
            for v in cells {
                match v {
                    Value::Int64List(items) => {
                        b.values().append_slice(items);
                        b.append(true);
                    }
                    Value::Null if col.nullable => b.append(false),
                    v => return Err(mismatch(v)),
                }
            }
            Ok(Arc::new(b.finish()))
        }
    }
}

fn primitive<'a, P: ArrowPrimitiveType>(
    mut builder: PrimitiveBuilder<P>,
    col: &Column,
    cells: impl Iterator<Item = &'a Value>,
    mismatch: impl Fn(&Value) -> String,
    get: impl Fn(&Value) -> Option<P::Native>,
) -> Result<ArrayRef, String> {
    for v in cells {
        match (get(v), v) {
            (Some(x), _) => builder.append_value(x),
            (None, Value::Null) if col.nullable => builder.append_null(),
            (None, v) => return Err(mismatch(v)),
        }
    }
    Ok(Arc::new(builder.finish()))
}

fn io_error(what: String, e: impl Display) -> SinkError {
    SinkError {
        sink: SINK,
        message: format!("{what}: {e}"),
        retryable: true,
    }
}

fn create_dir(path: &Path) -> Result<(), SinkError> {
    fs::create_dir_all(path).map_err(|e| io_error(format!("create {}", path.display()), e))
}

/// Makes a folder's entries (new, renamed or removed files) durable.
fn sync_dir(path: &Path) -> Result<(), SinkError> {
    File::open(path)
        .and_then(|d| d.sync_all())
        .map_err(|e| io_error(format!("fsync {}", path.display()), e))
}

/// Writes `dir/name` atomically: a temporary `.name.tmp`, fsynced, renamed, folder fsynced.
fn write_json_atomic(dir: &Path, name: &str, manifest: &Manifest) -> Result<(), SinkError> {
    let tmp = dir.join(format!(".{name}.tmp"));
    let path = dir.join(name);
    let json = serde_json::to_vec_pretty(manifest).map_err(|e| SinkError {
        sink: SINK,
        message: format!("{}: {e}", path.display()),
        retryable: false,
    })?;
    let write = || -> std::io::Result<()> {
        let mut file = File::create(&tmp)?;
        file.write_all(&json)?;
        file.write_all(b"\n")?;
        file.sync_all()
    };
    write().map_err(|e| io_error(format!("write {}", tmp.display()), e))?;
    fs::rename(&tmp, &path)
        .map_err(|e| io_error(format!("rename {} to {}", tmp.display(), path.display()), e))?;
    sync_dir(dir)
}

/// Deletes the temporary files (`.<name>.tmp`) a crash left in `dir`.
fn remove_temp_files(dir: &Path) -> Result<(), SinkError> {
    let entries = fs::read_dir(dir).map_err(|e| io_error(format!("list {}", dir.display()), e))?;
    for entry in entries {
        let entry = entry.map_err(|e| io_error(format!("list {}", dir.display()), e))?;
        let name = entry.file_name();
        let name = name.to_string_lossy();
        if name.starts_with('.') && name.ends_with(".tmp") {
            fs::remove_file(entry.path())
                .map_err(|e| io_error(format!("remove {}", entry.path().display()), e))?;
        }
    }
    Ok(())
}

/// The epochs of the manifests in `dir/_manifests`, oldest first.
fn manifest_epochs(dir: &Path) -> Result<BTreeSet<u64>, SinkError> {
    let manifests = dir.join(MANIFESTS);
    let entries = fs::read_dir(&manifests)
        .map_err(|e| io_error(format!("list {}", manifests.display()), e))?;
    let mut epochs = BTreeSet::new();
    for entry in entries {
        let entry = entry.map_err(|e| io_error(format!("list {}", manifests.display()), e))?;
        let name = entry.file_name();
        let epoch = name
            .to_str()
            .and_then(|n| n.strip_prefix("epoch="))
            .and_then(|n| n.strip_suffix(".json"))
            .and_then(|n| n.parse().ok());
        if let Some(epoch) = epoch {
            epochs.insert(epoch);
        }
    }
    Ok(epochs)
}

/// Deletes every `<table>/epoch=<E>` folder whose epoch is not in `kept`.
fn remove_unlisted_epochs(dir: &Path, kept: &BTreeSet<u64>) -> Result<(), SinkError> {
    for table in Table::ALL {
        let table_dir = dir.join(table.name());
        let entries = fs::read_dir(&table_dir)
            .map_err(|e| io_error(format!("list {}", table_dir.display()), e))?;
        let mut removed = false;
        for entry in entries {
            let entry = entry.map_err(|e| io_error(format!("list {}", table_dir.display()), e))?;
            let name = entry.file_name();
            let epoch: Option<u64> = name
                .to_str()
                .and_then(|n| n.strip_prefix("epoch="))
                .and_then(|n| n.parse().ok());
            if let Some(epoch) = epoch.filter(|e| !kept.contains(e)) {
                fs::remove_dir_all(entry.path())
                    .map_err(|e| io_error(format!("remove {}", entry.path().display()), e))?;
                tracing::debug!(table = table.name(), epoch, "parquet snapshot removed");
                removed = true;
            }
        }
        if removed {
            sync_dir(&table_dir)?;
        }
    }
    Ok(())
}

/// The generated part of `schemas/parquet.md`: every table's Arrow schema and files.
pub fn schema_doc() -> String {
    let mut out = String::new();
    for table in Table::ALL {
        let name = table.name();
        let key: Vec<String> = columns(table)
            .iter()
            .filter(|c| c.key)
            .map(|c| format!("`{}`", c.name))
            .collect();
        let files = match day_column(table) {
            Some(day) => format!(
                "`{name}/epoch=<E>/day=YYYY-MM-DD/{PART_FILE}` (`{day}` is in the path and in the files)"
            ),
            None => format!("`{name}/epoch=<E>/{PART_FILE}`"),
        };
        let _ = writeln!(out, "### `{name}`\n");
        let _ = writeln!(out, "Key: {}. Files: {files}.\n", key.join(", "));
        let _ = writeln!(out, "| field | Arrow type | nullable | meaning |");
        let _ = writeln!(out, "|---|---|---|---|");
        for (field, col) in arrow_schema(table).fields().iter().zip(columns(table)) {
            let _ = writeln!(
                out,
                "| `{}` | `{}` | {} | {}{} |",
                field.name(),
                field.data_type(),
                if field.is_nullable() { "yes" } else { "no" },
                col.doc.replace('|', "\\|"),
                if col.key { " (key)" } else { "" }
            );
        }
        out.push('\n');
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    const BEGIN: &str =
        "<!-- BEGIN GENERATED: table schemas (src/sinks/parquet.rs, schema_doc) -->";
    const END: &str = "<!-- END GENERATED -->";

    /// `schemas/parquet.md` shows the schemas the code writes; `UPDATE_SCHEMAS=1` rewrites it.
    #[test]
    fn schema_doc_matches_the_code() {
        let path = Path::new(env!("CARGO_MANIFEST_DIR")).join("schemas/parquet.md");
        let text = fs::read_to_string(&path).expect("read schemas/parquet.md");
        let start = text.find(BEGIN).expect("schemas/parquet.md: BEGIN marker");
        let end = text.find(END).expect("schemas/parquet.md: END marker");
        let updated = format!(
            "{}{BEGIN}\n\n{}{}",
            &text[..start],
            schema_doc(),
            &text[end..]
        );
        if updated != text {
            if std::env::var_os("UPDATE_SCHEMAS").is_some() {
                fs::write(&path, updated).expect("write schemas/parquet.md");
            } else {
                panic!(
                    "schemas/parquet.md does not match the Arrow schemas in the code; \
                     run `UPDATE_SCHEMAS=1 cargo test --lib schema_doc` and review the diff"
                );
            }
        }
    }

    #[test]
    fn every_table_has_a_schema_of_its_columns() {
        for table in Table::ALL {
            let schema = arrow_schema(table);
            assert_eq!(
                schema.fields().len(),
                columns(table).len(),
                "{}",
                table.name()
            );
        }
        assert_eq!(
            arrow_type(ColType::Timestamp).to_string(),
            DataType::Timestamp(TimeUnit::Millisecond, Some("UTC".into())).to_string()
        );
    }

    #[test]
    fn a_value_of_the_wrong_type_is_an_error_naming_the_column() {
        let col = columns(Table::MetricFacts)[0];
        let cells = [Value::Int64(1)];
        let err = column_array(Table::MetricFacts, &col, cells.iter()).expect_err("mismatch");
        assert!(err.contains("metric_facts.id"), "{err}");
        let cells = [Value::Null];
        let err = column_array(Table::MetricFacts, &col, cells.iter()).expect_err("null");
        assert!(err.contains("Null"), "{err}");
    }
}
