//! SQL sinks (SPEC 4.2, 4.4): PostgreSQL and embedded SQLite, one transaction per snapshot.

use std::borrow::Cow;
use std::path::Path;
use std::time::Duration;

use chrono::{DateTime, NaiveDate, Utc};
use dataflows::output::Table;
use sqlx::migrate::{Migration, MigrationType, Migrator};
use sqlx::postgres::{PgPool, PgPoolOptions, PgRow};
use sqlx::query::Query;
use sqlx::sqlite::{SqliteConnectOptions, SqlitePool, SqlitePoolOptions, SqliteRow};
use sqlx::{Database, Executor, Row as _, Transaction};

use super::{Sink, SinkError};
use crate::columns::{columns, key_values, sort_rows, values, ColType, Value};

mod bulk;
use crate::snapshot::{Snapshot, SourceOffset, TableChanges};

/// Which database a sink writes to.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Backend {
    Postgres,
    Sqlite,
}

impl Backend {
    pub fn name(self) -> &'static str {
        match self {
            Backend::Postgres => "postgres",
            Backend::Sqlite => "sqlite",
        }
    }
}

/// One migration as shipped in the binary: version, description, up SQL, down SQL.
pub type MigrationFiles = (i64, &'static str, &'static str, &'static str);

const POSTGRES_MIGRATIONS: &[MigrationFiles] = &[
    (
        1,
        "tables",
        include_str!("../../migrations/postgres/0001_tables.up.sql"),
        include_str!("../../migrations/postgres/0001_tables.down.sql"),
    ),
    (
        2,
        "dashboards",
        include_str!("../../migrations/postgres/0002_dashboards.up.sql"),
        include_str!("../../migrations/postgres/0002_dashboards.down.sql"),
    ),
    (
        3,
        "fillfactor",
        include_str!("../../migrations/postgres/0003_fillfactor.up.sql"),
        include_str!("../../migrations/postgres/0003_fillfactor.down.sql"),
    ),
];

const SQLITE_MIGRATIONS: &[MigrationFiles] = &[
    (
        1,
        "tables",
        include_str!("../../migrations/sqlite/0001_tables.up.sql"),
        include_str!("../../migrations/sqlite/0001_tables.down.sql"),
    ),
    (
        2,
        "dashboards",
        include_str!("../../migrations/sqlite/0002_dashboards.up.sql"),
        include_str!("../../migrations/sqlite/0002_dashboards.down.sql"),
    ),
    (
        3,
        "fillfactor",
        include_str!("../../migrations/sqlite/0003_fillfactor.up.sql"),
        include_str!("../../migrations/sqlite/0003_fillfactor.down.sql"),
    ),
];

/// The migrations of `backend`, in version order.
pub fn migration_files(backend: Backend) -> &'static [MigrationFiles] {
    match backend {
        Backend::Postgres => POSTGRES_MIGRATIONS,
        Backend::Sqlite => SQLITE_MIGRATIONS,
    }
}

/// An sqlx migrator over the embedded migrations (reversible: each has an up and a down).
pub fn migrator(backend: Backend) -> Migrator {
    let mut migrations = Vec::new();
    for (version, description, up, down) in migration_files(backend) {
        migrations.push(Migration::new(
            *version,
            Cow::Borrowed(*description),
            MigrationType::ReversibleUp,
            Cow::Borrowed(*up),
            false,
        ));
        migrations.push(Migration::new(
            *version,
            Cow::Borrowed(*description),
            MigrationType::ReversibleDown,
            Cow::Borrowed(*down),
            false,
        ));
    }
    Migrator {
        migrations: Cow::Owned(migrations),
        ..Migrator::DEFAULT
    }
}

/// A connection pool to either backend.
#[derive(Clone, Debug)]
pub enum Pool {
    Postgres(PgPool),
    Sqlite(SqlitePool),
}

fn sql_error(sink: &'static str, what: &str, e: sqlx::Error) -> SinkError {
    let retryable = matches!(
        e,
        sqlx::Error::Io(_)
            | sqlx::Error::PoolTimedOut
            | sqlx::Error::PoolClosed
            | sqlx::Error::WorkerCrashed
            | sqlx::Error::Protocol(_)
            | sqlx::Error::Tls(_)
    ) || matches!(&e, sqlx::Error::Database(d)
        if d.code().is_some_and(|c| c == "40001" || c == "40P01" || c.starts_with("08") || c.starts_with("57P")));
    SinkError {
        sink,
        message: format!("{what}: {e}"),
        retryable,
    }
}

fn migrate_error(sink: &'static str, e: sqlx::migrate::MigrateError) -> SinkError {
    SinkError {
        sink,
        message: format!("migrations: {e}"),
        retryable: false,
    }
}

impl Pool {
    pub fn backend(&self) -> Backend {
        match self {
            Pool::Postgres(_) => Backend::Postgres,
            Pool::Sqlite(_) => Backend::Sqlite,
        }
    }

    fn sink_name(&self) -> &'static str {
        self.backend().name()
    }

    /// Connects to PostgreSQL (`postgres://…`).
    pub async fn postgres(url: &str) -> Result<Pool, SinkError> {
        PgPoolOptions::new()
            .max_connections(4)
            .acquire_timeout(Duration::from_secs(10))
            .connect(url)
            .await
            .map(Pool::Postgres)
            .map_err(|e| sql_error("postgres", "connecting", e))
    }

    /// Opens (creating if needed) an SQLite database file.
    pub async fn sqlite(path: &Path) -> Result<Pool, SinkError> {
        if let Some(dir) = path.parent().filter(|d| !d.as_os_str().is_empty()) {
            std::fs::create_dir_all(dir).map_err(|e| SinkError {
                sink: "sqlite",
                message: format!("creating {}: {e}", dir.display()),
                retryable: false,
            })?;
        }
        let options = SqliteConnectOptions::new()
            .filename(path)
            .create_if_missing(true)
            .journal_mode(sqlx::sqlite::SqliteJournalMode::Wal)
            .synchronous(sqlx::sqlite::SqliteSynchronous::Normal)
            .busy_timeout(Duration::from_secs(30));
        SqlitePoolOptions::new()
            .max_connections(1)
            .connect_with(options)
            .await
            .map(Pool::Sqlite)
            .map_err(|e| sql_error("sqlite", &format!("opening {}", path.display()), e))
    }

    /// Applies every pending migration.
    pub async fn migrate_up(&self) -> Result<(), SinkError> {
        let m = migrator(self.backend());
        match self {
            Pool::Postgres(p) => m.run(p).await,
            Pool::Sqlite(p) => m.run(p).await,
        }
        .map_err(|e| migrate_error(self.sink_name(), e))
    }

    /// Reverts migrations down to (and excluding) version `target` (0 reverts all).
    pub async fn migrate_down_to(&self, target: i64) -> Result<(), SinkError> {
        let m = migrator(self.backend());
        match self {
            Pool::Postgres(p) => m.undo(p, target).await,
            Pool::Sqlite(p) => m.undo(p, target).await,
        }
        .map_err(|e| migrate_error(self.sink_name(), e))
    }

    /// Versions of the migrations applied, in order.
    pub async fn applied_migrations(&self) -> Result<Vec<i64>, SinkError> {
        let sql = "SELECT version FROM _sqlx_migrations WHERE success ORDER BY version";
        let exists = self.table_exists("_sqlx_migrations").await?;
        if !exists {
            return Ok(Vec::new());
        }
        match self {
            Pool::Postgres(p) => sqlx::query_scalar(sql).fetch_all(p).await,
            Pool::Sqlite(p) => sqlx::query_scalar(sql).fetch_all(p).await,
        }
        .map_err(|e| sql_error(self.sink_name(), "reading migrations", e))
    }

    /// Whether a table or view named `name` exists (in the current schema).
    pub async fn table_exists(&self, name: &str) -> Result<bool, SinkError> {
        let n: i64 = match self {
            Pool::Postgres(p) => {
                sqlx::query_scalar(
                    "SELECT count(*) FROM information_schema.tables
                     WHERE table_schema = current_schema() AND table_name = $1",
                )
                .bind(name)
                .fetch_one(p)
                .await
            }
            Pool::Sqlite(p) => sqlx::query_scalar(
                "SELECT count(*) FROM sqlite_master WHERE type IN ('table', 'view') AND name = ?",
            )
            .bind(name)
            .fetch_one(p)
            .await,
        }
        .map_err(|e| sql_error(self.sink_name(), "reading the catalog", e))?;
        Ok(n > 0)
    }

    /// The last committed epoch (0 when none).
    pub async fn last_epoch(&self) -> Result<u64, SinkError> {
        let sql = "SELECT COALESCE(MAX(epoch), 0) FROM snapshots";
        let e: i64 = match self {
            Pool::Postgres(p) => sqlx::query_scalar(sql).fetch_one(p).await,
            Pool::Sqlite(p) => sqlx::query_scalar(sql).fetch_one(p).await,
        }
        .map_err(|e| sql_error(self.sink_name(), "reading snapshots", e))?;
        Ok(u64::try_from(e).unwrap_or(0))
    }

    /// The source offsets stored with the last snapshot.
    pub async fn stored_offsets(&self) -> Result<Vec<SourceOffset>, SinkError> {
        let sql =
            "SELECT source, partition, next_offset FROM source_offsets ORDER BY source, partition";
        let rows: Vec<(String, i32, i64)> = match self {
            Pool::Postgres(p) => sqlx::query_as(sql).fetch_all(p).await,
            Pool::Sqlite(p) => sqlx::query_as(sql).fetch_all(p).await,
        }
        .map_err(|e| sql_error(self.sink_name(), "reading source offsets", e))?;
        Ok(rows
            .into_iter()
            .map(|(source, partition, next_offset)| SourceOffset {
                source,
                partition,
                next_offset,
            })
            .collect())
    }

    /// Applies one snapshot in one transaction: deletes, upserts, dead letters, the snapshot
    /// row and the source offsets. With `reset`, every output table is emptied first (a run
    /// that recomputes everything from its input replaces the previous run's rows atomically).
    pub async fn apply(&self, snapshot: &Snapshot, reset: bool) -> Result<(), SinkError> {
        let name = self.sink_name();
        match self {
            Pool::Postgres(p) => apply_in_transaction(p, name, snapshot, reset).await,
            Pool::Sqlite(p) => apply_in_transaction(p, name, snapshot, reset).await,
        }
    }

    /// Every row of `table`, as values in column order, sorted (for tests and `--verify`).
    pub async fn read_table(&self, table: Table) -> Result<Vec<Vec<Value>>, SinkError> {
        let cols = columns(table);
        let list = cols.iter().map(|c| c.name).collect::<Vec<_>>().join(", ");
        let sql = format!("SELECT {list} FROM {}", table.name());
        let mut out = match self {
            Pool::Postgres(p) => sqlx::query(&sql)
                .fetch_all(p)
                .await
                .map_err(|e| sql_error("postgres", &sql, e))?
                .iter()
                .map(|r| read_pg(r, table))
                .collect::<Result<Vec<_>, _>>(),
            Pool::Sqlite(p) => sqlx::query(&sql)
                .fetch_all(p)
                .await
                .map_err(|e| sql_error("sqlite", &sql, e))?
                .iter()
                .map(|r| read_sqlite(r, table))
                .collect::<Result<Vec<_>, _>>(),
        }
        .map_err(|e| sql_error(self.sink_name(), table.name(), e))?;
        sort_rows(&mut out);
        Ok(out)
    }
}

/// How each backend names parameters and writes one table's changes.
trait Dialect: Database {
    fn placeholder(i: usize) -> String;
    /// Applies one table's deletes and upserts inside the snapshot's transaction.
    async fn write_table(
        tx: &mut Transaction<'static, Self>,
        table: Table,
        changes: &TableChanges,
    ) -> Result<(), ApplyError>;
}

fn date(d: i32) -> NaiveDate {
    NaiveDate::from_num_days_from_ce_opt(d.saturating_add(719_163)).unwrap_or(NaiveDate::MIN)
}

fn timestamp(ms: i64) -> DateTime<Utc> {
    DateTime::from_timestamp_millis(ms).unwrap_or(DateTime::<Utc>::MIN_UTC)
}

fn days_of(d: NaiveDate) -> i32 {
    d.num_days_from_ce() - 719_163
}

use chrono::Datelike;

impl Dialect for sqlx::Postgres {
    fn placeholder(i: usize) -> String {
        format!("${i}")
    }
    async fn write_table(
        tx: &mut Transaction<'static, Self>,
        table: Table,
        changes: &TableChanges,
    ) -> Result<(), ApplyError> {
        bulk::write_table(tx, table, changes).await
    }
}

impl Dialect for sqlx::Sqlite {
    fn placeholder(_: usize) -> String {
        "?".to_string()
    }
    async fn write_table(
        tx: &mut Transaction<'static, Self>,
        table: Table,
        changes: &TableChanges,
    ) -> Result<(), ApplyError> {
        write_rows(tx, table, changes).await
    }
}

type SqliteQuery<'q> = Query<'q, sqlx::Sqlite, <sqlx::Sqlite as Database>::Arguments<'q>>;

/// Binds one value to an SQLite statement (lists as JSON text).
fn bind_sqlite(q: SqliteQuery<'_>, v: Value, ty: ColType) -> SqliteQuery<'_> {
    match (v, ty) {
        (Value::Text(s), _) => q.bind(s),
        (Value::Int64(x), _) => q.bind(x),
        (Value::Float64(x), _) => q.bind(x),
        (Value::Date(d), _) => q.bind(date(d)),
        (Value::Timestamp(t), _) => q.bind(timestamp(t)),
        (Value::TextList(l), _) => q.bind(serde_json::to_string(&l).unwrap_or_default()),
        (Value::Int64List(l), _) => q.bind(serde_json::to_string(&l).unwrap_or_default()),
        (Value::Null, ColType::Int64) => q.bind(None::<i64>),
        (Value::Null, ColType::Float64) => q.bind(None::<f64>),
        (Value::Null, _) => q.bind(None::<String>),
    }
}

/// Rows per multi-row SQLite statement: bounded by SQLite's parameter limit.
fn batch_rows(ncols: usize) -> usize {
    (30_000 / ncols.max(1)).clamp(1, 1_000)
}

fn upsert_sql<DB: Dialect>(table: Table, rows: usize) -> String {
    let cols = columns(table);
    let names = cols.iter().map(|c| c.name).collect::<Vec<_>>().join(", ");
    let mut sql = format!("INSERT INTO {} ({names}) VALUES ", table.name());
    let mut p = 0;
    for r in 0..rows {
        if r > 0 {
            sql.push_str(", ");
        }
        sql.push('(');
        for c in 0..cols.len() {
            if c > 0 {
                sql.push_str(", ");
            }
            p += 1;
            sql.push_str(&DB::placeholder(p));
        }
        sql.push(')');
    }
    sql.push_str(&on_conflict(table));
    sql
}

/// The `ON CONFLICT` clause that makes an insert of `table` rows an upsert by key.
fn on_conflict(table: Table) -> String {
    let cols = columns(table);
    let keys = cols
        .iter()
        .filter(|c| c.key)
        .map(|c| c.name)
        .collect::<Vec<_>>()
        .join(", ");
    let updates = cols
        .iter()
        .filter(|c| !c.key)
        .map(|c| format!("{0} = excluded.{0}", c.name))
        .collect::<Vec<_>>();
    if updates.is_empty() {
        format!(" ON CONFLICT ({keys}) DO NOTHING")
    } else {
        format!(" ON CONFLICT ({keys}) DO UPDATE SET {}", updates.join(", "))
    }
}

fn delete_sql<DB: Dialect>(table: Table) -> String {
    let cond = columns(table)
        .iter()
        .filter(|c| c.key)
        .enumerate()
        .map(|(i, c)| format!("{} = {}", c.name, DB::placeholder(i + 1)))
        .collect::<Vec<_>>()
        .join(" AND ");
    format!("DELETE FROM {} WHERE {cond}", table.name())
}

type ApplyError = (String, sqlx::Error);

/// Begins a transaction, applies the snapshot in it, and commits.
async fn apply_in_transaction<DB: Dialect>(
    pool: &sqlx::Pool<DB>,
    name: &'static str,
    snapshot: &Snapshot,
    reset: bool,
) -> Result<(), SinkError>
where
    for<'c> &'c mut DB::Connection: Executor<'c, Database = DB>,
    for<'q> <DB as Database>::Arguments<'q>: sqlx::IntoArguments<'q, DB>,
    i64: for<'q> sqlx::Encode<'q, DB> + sqlx::Type<DB>,
    i32: for<'q> sqlx::Encode<'q, DB> + sqlx::Type<DB>,
    String: for<'q> sqlx::Encode<'q, DB> + sqlx::Type<DB>,
    Option<String>: for<'q> sqlx::Encode<'q, DB> + sqlx::Type<DB>,
    Option<DateTime<Utc>>: for<'q> sqlx::Encode<'q, DB> + sqlx::Type<DB>,
    DateTime<Utc>: for<'q> sqlx::Encode<'q, DB> + sqlx::Type<DB>,
    Option<Vec<u8>>: for<'q> sqlx::Encode<'q, DB> + sqlx::Type<DB>,
{
    let mut tx = pool
        .begin()
        .await
        .map_err(|e| sql_error(name, "begin", e))?;
    apply(&mut tx, snapshot, reset)
        .await
        .map_err(|(what, e)| sql_error(name, &what, e))?;
    tx.commit().await.map_err(|e| sql_error(name, "commit", e))
}

async fn apply<DB: Dialect>(
    tx: &mut Transaction<'static, DB>,
    snapshot: &Snapshot,
    reset: bool,
) -> Result<(), ApplyError>
where
    for<'c> &'c mut DB::Connection: Executor<'c, Database = DB>,
    for<'q> <DB as Database>::Arguments<'q>: sqlx::IntoArguments<'q, DB>,
    i64: for<'q> sqlx::Encode<'q, DB> + sqlx::Type<DB>,
    i32: for<'q> sqlx::Encode<'q, DB> + sqlx::Type<DB>,
    String: for<'q> sqlx::Encode<'q, DB> + sqlx::Type<DB>,
    Option<String>: for<'q> sqlx::Encode<'q, DB> + sqlx::Type<DB>,
    Option<DateTime<Utc>>: for<'q> sqlx::Encode<'q, DB> + sqlx::Type<DB>,
    DateTime<Utc>: for<'q> sqlx::Encode<'q, DB> + sqlx::Type<DB>,
    Option<Vec<u8>>: for<'q> sqlx::Encode<'q, DB> + sqlx::Type<DB>,
{
    if reset {
        for table in Table::ALL {
            let sql = format!("DELETE FROM {}", table.name());
            sqlx::query::<DB>(&sql)
                .execute(&mut **tx)
                .await
                .map_err(|e| (sql.clone(), e))?;
        }
        for sql in ["DELETE FROM dead_letters", "DELETE FROM source_offsets"] {
            sqlx::query::<DB>(sql)
                .execute(&mut **tx)
                .await
                .map_err(|e| (sql.to_string(), e))?;
        }
    }
    for (table, changes) in &snapshot.tables {
        DB::write_table(tx, *table, changes).await?;
    }
    if !snapshot.dead_letters.is_empty() {
        let sql = format!(
            "INSERT INTO dead_letters (source, partition, \"offset\", epoch, field, reason, error, key, payload) \
             VALUES ({}) ON CONFLICT (source, partition, \"offset\") DO NOTHING",
            (1..=9).map(DB::placeholder).collect::<Vec<_>>().join(", ")
        );
        for d in &snapshot.dead_letters {
            sqlx::query::<DB>(&sql)
                .bind(d.origin.clone())
                .bind(d.partition)
                .bind(i64::try_from(d.offset).unwrap_or(i64::MAX))
                .bind(epoch_i64(snapshot.epoch))
                .bind(d.field.clone())
                .bind(d.reason.to_string())
                .bind(d.error.clone())
                .bind(d.key.clone())
                .bind(d.payload.clone())
                .execute(&mut **tx)
                .await
                .map_err(|e| ("dead_letters".to_string(), e))?;
        }
    }
    let rows_changed = serde_json::to_string(&snapshot.rows_changed()).unwrap_or_default();
    let sql = format!(
        "INSERT INTO snapshots (epoch, committed_at, watermark, events_in, rejected, rows_changed) \
         VALUES ({}, {}, {}, {}, {}, {})",
        DB::placeholder(1),
        DB::placeholder(2),
        DB::placeholder(3),
        DB::placeholder(4),
        DB::placeholder(5),
        if DB::placeholder(1) == "$1" {
            "CAST($6 AS jsonb)".to_string()
        } else {
            DB::placeholder(6)
        }
    );
    sqlx::query::<DB>(&sql)
        .bind(epoch_i64(snapshot.epoch))
        .bind(Utc::now())
        .bind(snapshot.watermark.map(timestamp))
        .bind(i64::try_from(snapshot.events_in).unwrap_or(i64::MAX))
        .bind(i64::try_from(snapshot.rejected).unwrap_or(i64::MAX))
        .bind(rows_changed)
        .execute(&mut **tx)
        .await
        .map_err(|e| ("snapshots".to_string(), e))?;
    if !snapshot.offsets.is_empty() {
        let sql = format!(
            "INSERT INTO source_offsets (source, partition, next_offset, epoch) VALUES ({}) \
             ON CONFLICT (source, partition) DO UPDATE SET next_offset = excluded.next_offset, \
             epoch = excluded.epoch",
            (1..=4).map(DB::placeholder).collect::<Vec<_>>().join(", ")
        );
        for o in &snapshot.offsets {
            sqlx::query::<DB>(&sql)
                .bind(o.source.clone())
                .bind(o.partition)
                .bind(o.next_offset)
                .bind(epoch_i64(snapshot.epoch))
                .execute(&mut **tx)
                .await
                .map_err(|e| ("source_offsets".to_string(), e))?;
        }
    }
    Ok(())
}

/// Applies one table's changes to SQLite: one statement per deleted key, multi-row upserts.
async fn write_rows(
    tx: &mut Transaction<'static, sqlx::Sqlite>,
    table: Table,
    changes: &TableChanges,
) -> Result<(), ApplyError> {
    let cols = columns(table);
    if !changes.deletes.is_empty() {
        let sql = delete_sql::<sqlx::Sqlite>(table);
        let key_cols: Vec<_> = cols.iter().filter(|c| c.key).collect();
        for key in &changes.deletes {
            let vals = key_values(table, key).map_err(|m| {
                (
                    format!("{}: delete", table.name()),
                    sqlx::Error::Protocol(m),
                )
            })?;
            let mut q = sqlx::query::<sqlx::Sqlite>(&sql);
            for (v, c) in vals.into_iter().zip(&key_cols) {
                q = bind_sqlite(q, v, c.ty);
            }
            q.execute(&mut **tx)
                .await
                .map_err(|e| (format!("{}: delete", table.name()), e))?;
        }
    }
    let per = batch_rows(cols.len());
    let mut full_sql: Option<String> = None;
    for chunk in changes.upserts.chunks(per) {
        let sql = if chunk.len() == per {
            full_sql
                .get_or_insert_with(|| upsert_sql::<sqlx::Sqlite>(table, per))
                .clone()
        } else {
            upsert_sql::<sqlx::Sqlite>(table, chunk.len())
        };
        let mut q = sqlx::query::<sqlx::Sqlite>(&sql);
        for row in chunk {
            for (v, c) in values(row).into_iter().zip(cols) {
                q = bind_sqlite(q, v, c.ty);
            }
        }
        q.execute(&mut **tx)
            .await
            .map_err(|e| (format!("{}: upsert", table.name()), e))?;
    }
    Ok(())
}

fn epoch_i64(e: u64) -> i64 {
    i64::try_from(e).unwrap_or(i64::MAX)
}

fn read_pg(r: &PgRow, table: Table) -> Result<Vec<Value>, sqlx::Error> {
    columns(table)
        .iter()
        .enumerate()
        .map(|(i, c)| {
            Ok(match c.ty {
                ColType::Text => r.try_get::<Option<String>, _>(i)?.map(Value::Text),
                ColType::Int64 => r.try_get::<Option<i64>, _>(i)?.map(Value::Int64),
                ColType::Float64 => r.try_get::<Option<f64>, _>(i)?.map(Value::Float64),
                ColType::Date => r
                    .try_get::<Option<NaiveDate>, _>(i)?
                    .map(|d| Value::Date(days_of(d))),
                ColType::Timestamp => r
                    .try_get::<Option<DateTime<Utc>>, _>(i)?
                    .map(|t| Value::Timestamp(t.timestamp_millis())),
                ColType::TextList => r.try_get::<Option<Vec<String>>, _>(i)?.map(Value::TextList),
                ColType::Int64List => r.try_get::<Option<Vec<i64>>, _>(i)?.map(Value::Int64List),
            }
            .unwrap_or(Value::Null))
        })
        .collect()
}

fn read_sqlite(r: &SqliteRow, table: Table) -> Result<Vec<Value>, sqlx::Error> {
    // Lists are JSON text in SQLite.
    fn json_list<T: serde::de::DeserializeOwned>(
        r: &SqliteRow,
        i: usize,
    ) -> Result<Option<T>, sqlx::Error> {
        r.try_get::<Option<String>, _>(i)?
            .map(|s| serde_json::from_str(&s))
            .transpose()
            .map_err(|e| sqlx::Error::ColumnDecode {
                index: i.to_string(),
                source: Box::new(e),
            })
    }
    columns(table)
        .iter()
        .enumerate()
        .map(|(i, c)| {
            Ok(match c.ty {
                ColType::Text => r.try_get::<Option<String>, _>(i)?.map(Value::Text),
                ColType::Int64 => r.try_get::<Option<i64>, _>(i)?.map(Value::Int64),
                ColType::Float64 => r.try_get::<Option<f64>, _>(i)?.map(Value::Float64),
                ColType::Date => r
                    .try_get::<Option<NaiveDate>, _>(i)?
                    .map(|d| Value::Date(days_of(d))),
                ColType::Timestamp => r
                    .try_get::<Option<DateTime<Utc>>, _>(i)?
                    .map(|t| Value::Timestamp(t.timestamp_millis())),
                ColType::TextList => json_list(r, i)?.map(Value::TextList),
                ColType::Int64List => json_list(r, i)?.map(Value::Int64List),
            }
            .unwrap_or(Value::Null))
        })
        .collect()
}

/// A sink writing each snapshot to PostgreSQL or SQLite in one transaction.
pub struct SqlSink {
    runtime: tokio::runtime::Runtime,
    pool: Pool,
    last_epoch: u64,
    stored_offsets: Vec<SourceOffset>,
    reset_pending: bool,
}

fn runtime(sink: &'static str) -> Result<tokio::runtime::Runtime, SinkError> {
    tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .map_err(|e| SinkError {
            sink,
            message: format!("starting the async runtime: {e}"),
            retryable: false,
        })
}

impl SqlSink {
    /// Connects to PostgreSQL (retrying with backoff for up to a minute while it is
    /// unreachable) and applies pending migrations.
    pub fn postgres(url: &str) -> Result<SqlSink, SinkError> {
        let runtime = runtime("postgres")?;
        let started = std::time::Instant::now();
        let mut delay = Duration::from_millis(200);
        let pool = loop {
            match runtime.block_on(Pool::postgres(url)) {
                Ok(pool) => break pool,
                Err(e) if e.retryable && started.elapsed() < Duration::from_secs(60) => {
                    tracing::warn!(
                        retry_in_ms = delay.as_millis() as u64,
                        "postgres: cannot connect, retrying: {}",
                        e.message
                    );
                    std::thread::sleep(delay);
                    delay = (delay * 2).min(Duration::from_secs(5));
                }
                Err(e) => return Err(e),
            }
        };
        Self::with_pool(runtime, pool)
    }

    /// Opens an SQLite file (created if missing) and applies pending migrations.
    pub fn sqlite(path: &Path) -> Result<SqlSink, SinkError> {
        let runtime = runtime("sqlite")?;
        let pool = runtime.block_on(Pool::sqlite(path))?;
        Self::with_pool(runtime, pool)
    }

    fn with_pool(runtime: tokio::runtime::Runtime, pool: Pool) -> Result<SqlSink, SinkError> {
        runtime.block_on(pool.migrate_up())?;
        let last_epoch = runtime.block_on(pool.last_epoch())?;
        let stored_offsets = runtime.block_on(pool.stored_offsets())?;
        Ok(SqlSink {
            runtime,
            pool,
            last_epoch,
            stored_offsets,
            reset_pending: false,
        })
    }

    /// Makes the next commit replace every output table's rows (for runs that recompute
    /// everything from their input).
    pub fn reset_on_next_commit(&mut self) {
        self.reset_pending = true;
    }

    pub fn pool(&self) -> &Pool {
        &self.pool
    }

    /// Runs a future on this sink's runtime (for reading the tables back).
    pub fn block_on<F: std::future::Future>(&self, f: F) -> F::Output {
        self.runtime.block_on(f)
    }
}

impl Sink for SqlSink {
    fn name(&self) -> &'static str {
        self.pool.sink_name()
    }

    fn commit(&mut self, snapshot: &Snapshot) -> Result<(), SinkError> {
        self.runtime
            .block_on(self.pool.apply(snapshot, self.reset_pending))?;
        self.reset_pending = false;
        self.last_epoch = snapshot.epoch;
        self.stored_offsets.clone_from(&snapshot.offsets);
        Ok(())
    }

    fn last_epoch(&self) -> u64 {
        self.last_epoch
    }

    fn stored_offsets(&self) -> Vec<SourceOffset> {
        self.stored_offsets.clone()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn upsert_statements_update_every_non_key_column() {
        let sql = upsert_sql::<sqlx::Sqlite>(Table::TrendAliases, 2);
        assert_eq!(
            sql,
            "INSERT INTO trend_aliases (alias_id, trend_id) VALUES (?, ?), (?, ?) \
             ON CONFLICT (alias_id) DO UPDATE SET trend_id = excluded.trend_id"
        );
        assert_eq!(
            delete_sql::<sqlx::Sqlite>(Table::CompetitorSentiment),
            "DELETE FROM competitor_sentiment WHERE result_id = ? AND competitor_id = ?"
        );
    }

    #[test]
    fn days_round_trip_through_dates() {
        for d in [-1, 0, 20_454, 11_016] {
            assert_eq!(days_of(date(d)), d);
        }
        assert_eq!(date(0).to_string(), "1970-01-01");
    }
}
