//! PostgreSQL bulk writes: a table's inserts, updates and deletes of one snapshot as a few statements over `UNNEST`ed array parameters.
//!
//! Each column travels as one array parameter (binary protocol), so a statement's text depends
//! on the table only: it is prepared once per connection, and an epoch's changes to a table cost
//! one round trip per [`CHUNK_ROWS`] rows instead of one per deleted key. List columns travel
//! as PostgreSQL array literals in a `text[]` and are cast back in the statement, because
//! `UNNEST` of a two-dimensional array would flatten it.
//!
//! The graph's tables hold one row per key, and a snapshot says which of its rows are new keys
//! and which replace a row ([`TableChanges::inserts`]): new keys are plain `INSERT`s and
//! replacements `UPDATE`s by key, which PostgreSQL does with less work than `ON CONFLICT`
//! (measured here: ~33% less per row). The history tables (aliases, archive), written by the
//! ledger rather than the graph, keep the `ON CONFLICT` upsert.

use chrono::{DateTime, NaiveDate, Utc};
use dataflows::output::{Row, Table};
use sqlx::postgres::PgArguments;
use sqlx::query::Query;
use sqlx::{Postgres, Transaction};

use super::{date, on_conflict, timestamp, ApplyError};
use crate::columns::{columns, key_values, values, ColType, Column, Value};
use crate::snapshot::TableChanges;

/// Rows per statement: bounds the size of one message.
pub const CHUNK_ROWS: usize = 10_000;

/// One column's values for a chunk of rows, bound as one array parameter.
enum ArrayParam {
    Text(Vec<Option<String>>),
    Int64(Vec<Option<i64>>),
    Float64(Vec<Option<f64>>),
    Date(Vec<Option<NaiveDate>>),
    Timestamp(Vec<Option<DateTime<Utc>>>),
    /// A list column: each row's list as an array literal, cast back in the statement.
    List(Vec<Option<String>>),
}

impl ArrayParam {
    fn new(ty: ColType, rows: usize) -> ArrayParam {
        match ty {
            ColType::Text => ArrayParam::Text(Vec::with_capacity(rows)),
            ColType::Int64 => ArrayParam::Int64(Vec::with_capacity(rows)),
            ColType::Float64 => ArrayParam::Float64(Vec::with_capacity(rows)),
            ColType::Date => ArrayParam::Date(Vec::with_capacity(rows)),
            ColType::Timestamp => ArrayParam::Timestamp(Vec::with_capacity(rows)),
            ColType::TextList | ColType::Int64List => ArrayParam::List(Vec::with_capacity(rows)),
        }
    }

    /// Appends one row's value; a value of another type than the column's is an error.
    fn push(&mut self, column: &Column, v: Value) -> Result<(), String> {
        match (self, v) {
            (ArrayParam::Text(c), Value::Text(s)) => c.push(Some(s)),
            (ArrayParam::Text(c), Value::Null) => c.push(None),
            (ArrayParam::Int64(c), Value::Int64(x)) => c.push(Some(x)),
            (ArrayParam::Int64(c), Value::Null) => c.push(None),
            (ArrayParam::Float64(c), Value::Float64(x)) => c.push(Some(x)),
            (ArrayParam::Float64(c), Value::Null) => c.push(None),
            (ArrayParam::Date(c), Value::Date(d)) => c.push(Some(date(d))),
            (ArrayParam::Date(c), Value::Null) => c.push(None),
            (ArrayParam::Timestamp(c), Value::Timestamp(t)) => c.push(Some(timestamp(t))),
            (ArrayParam::Timestamp(c), Value::Null) => c.push(None),
            (ArrayParam::List(c), Value::TextList(l)) => c.push(Some(text_array_literal(&l))),
            (ArrayParam::List(c), Value::Int64List(l)) => c.push(Some(int_array_literal(&l))),
            (ArrayParam::List(c), Value::Null) => c.push(None),
            (_, v) => {
                return Err(format!(
                    "column {}: a {:?} column cannot hold {v:?}",
                    column.name, column.ty
                ))
            }
        }
        Ok(())
    }

    fn bind(self, q: Query<'_, Postgres, PgArguments>) -> Query<'_, Postgres, PgArguments> {
        match self {
            ArrayParam::Text(c) | ArrayParam::List(c) => q.bind(c),
            ArrayParam::Int64(c) => q.bind(c),
            ArrayParam::Float64(c) => q.bind(c),
            ArrayParam::Date(c) => q.bind(c),
            ArrayParam::Timestamp(c) => q.bind(c),
        }
    }
}

/// The PostgreSQL type of the array parameter carrying a column.
fn param_type(ty: ColType) -> &'static str {
    match ty {
        ColType::Text | ColType::TextList | ColType::Int64List => "text[]",
        ColType::Int64 => "int8[]",
        ColType::Float64 => "float8[]",
        ColType::Date => "date[]",
        ColType::Timestamp => "timestamptz[]",
    }
}

/// A column of the unnested relation `alias`, cast back to the column's type where needed.
fn column_expr(alias: &str, c: &Column) -> String {
    match c.ty {
        ColType::TextList => format!("{alias}.{}::text[]", c.name),
        ColType::Int64List => format!("{alias}.{}::int8[]", c.name),
        _ => format!("{alias}.{}", c.name),
    }
}

/// `UNNEST($1::t1[], $2::t2[], …) AS alias(c1, c2, …)` over `cols`.
fn unnest(cols: &[&Column], alias: &str) -> String {
    let params = cols
        .iter()
        .enumerate()
        .map(|(i, c)| format!("${}::{}", i + 1, param_type(c.ty)))
        .collect::<Vec<_>>()
        .join(", ");
    let names = cols.iter().map(|c| c.name).collect::<Vec<_>>().join(", ");
    format!("UNNEST({params}) AS {alias}({names})")
}

/// The statement upserting a chunk of `table` rows.
pub fn upsert_sql(table: Table) -> String {
    format!("{}{}", insert_sql(table), on_conflict(table))
}

/// The statement inserting a chunk of `table` rows whose keys are new.
pub fn insert_sql(table: Table) -> String {
    let cols: Vec<&Column> = columns(table).iter().collect();
    let names = cols.iter().map(|c| c.name).collect::<Vec<_>>().join(", ");
    let select = cols
        .iter()
        .map(|c| column_expr("u", c))
        .collect::<Vec<_>>()
        .join(", ");
    format!(
        "INSERT INTO {t} ({names}) SELECT {select} FROM {from}",
        t = table.name(),
        from = unnest(&cols, "u"),
    )
}

/// The statement replacing, by key, the rows of a chunk of `table` rows; `None` when every
/// column is part of the key (a replacement is then the same row).
pub fn update_sql(table: Table) -> Option<String> {
    let cols: Vec<&Column> = columns(table).iter().collect();
    let set = cols
        .iter()
        .filter(|c| !c.key)
        .map(|c| format!("{} = {}", c.name, column_expr("u", c)))
        .collect::<Vec<_>>();
    if set.is_empty() {
        return None;
    }
    let cond = cols
        .iter()
        .filter(|c| c.key)
        .map(|c| format!("{}.{} = {}", table.name(), c.name, column_expr("u", c)))
        .collect::<Vec<_>>()
        .join(" AND ");
    Some(format!(
        "UPDATE {t} SET {set} FROM {from} WHERE {cond}",
        t = table.name(),
        set = set.join(", "),
        from = unnest(&cols, "u"),
    ))
}

/// The statement deleting a chunk of `table` rows by key.
pub fn delete_sql(table: Table) -> String {
    let keys: Vec<&Column> = columns(table).iter().filter(|c| c.key).collect();
    let cond = keys
        .iter()
        .map(|c| format!("{}.{} = {}", table.name(), c.name, column_expr("d", c)))
        .collect::<Vec<_>>()
        .join(" AND ");
    format!(
        "DELETE FROM {} USING {} WHERE {cond}",
        table.name(),
        unnest(&keys, "d")
    )
}

/// `{"a","b"}`: a `text[]` literal; every element quoted, `"` and `\` escaped.
fn text_array_literal(items: &[String]) -> String {
    let mut out = String::with_capacity(2 + items.iter().map(|s| s.len() + 3).sum::<usize>());
    out.push('{');
    for (i, s) in items.iter().enumerate() {
        if i > 0 {
            out.push(',');
        }
        out.push('"');
        for ch in s.chars() {
            if ch == '"' || ch == '\\' {
                out.push('\\');
            }
            out.push(ch);
        }
        out.push('"');
    }
    out.push('}');
    out
}

/// `{1,2}`: an `int8[]` literal.
fn int_array_literal(items: &[i64]) -> String {
    let inner = items
        .iter()
        .map(i64::to_string)
        .collect::<Vec<_>>()
        .join(",");
    format!("{{{inner}}}")
}

/// Binds `rows` (each in the order of `cols`) as one array parameter per column and runs `sql`.
async fn execute(
    tx: &mut Transaction<'static, Postgres>,
    sql: &str,
    cols: &[&Column],
    rows: impl ExactSizeIterator<Item = Result<Vec<Value>, String>>,
    what: &str,
) -> Result<(), ApplyError> {
    let mut params: Vec<ArrayParam> = cols
        .iter()
        .map(|c| ArrayParam::new(c.ty, rows.len()))
        .collect();
    for row in rows {
        let row = row.map_err(|m| (what.to_string(), sqlx::Error::Protocol(m)))?;
        for ((p, c), v) in params.iter_mut().zip(cols).zip(row) {
            p.push(c, v)
                .map_err(|m| (what.to_string(), sqlx::Error::Protocol(m)))?;
        }
    }
    let mut q = sqlx::query::<Postgres>(sql);
    for p in params {
        q = p.bind(q);
    }
    q.execute(&mut **tx)
        .await
        .map_err(|e| (what.to_string(), e))?;
    Ok(())
}

/// Runs `sql` over `rows`, a chunk of [`CHUNK_ROWS`] per statement.
async fn write_rows(
    tx: &mut Transaction<'static, Postgres>,
    sql: &str,
    cols: &[&Column],
    rows: &[Row],
    what: &str,
) -> Result<(), ApplyError> {
    for chunk in rows.chunks(CHUNK_ROWS) {
        let values = chunk.iter().map(|r| Ok(values(r)));
        execute(tx, sql, cols, values, what).await?;
    }
    Ok(())
}

/// Applies one table's deletes, then its new keys and replacements (or, for the history
/// tables, upserts), a chunk of rows per statement.
pub async fn write_table(
    tx: &mut Transaction<'static, Postgres>,
    table: Table,
    changes: &TableChanges,
) -> Result<(), ApplyError> {
    let all: Vec<&Column> = columns(table).iter().collect();
    let keys: Vec<&Column> = all.iter().copied().filter(|c| c.key).collect();
    let name = table.name();
    if !changes.deletes.is_empty() {
        let sql = delete_sql(table);
        let what = format!("{name}: delete");
        for chunk in changes.deletes.chunks(CHUNK_ROWS) {
            let rows = chunk.iter().map(|k| key_values(table, k));
            execute(tx, &sql, &keys, rows, &what).await?;
        }
    }
    if table.is_history() {
        if !changes.upserts.is_empty() {
            let what = format!("{name}: upsert");
            write_rows(tx, &upsert_sql(table), &all, &changes.upserts, &what).await?;
        }
        return Ok(());
    }
    if !changes.inserts().is_empty() {
        let what = format!("{name}: insert");
        write_rows(tx, &insert_sql(table), &all, changes.inserts(), &what).await?;
    }
    if let (false, Some(sql)) = (changes.replacements().is_empty(), update_sql(table)) {
        let what = format!("{name}: update");
        write_rows(tx, &sql, &all, changes.replacements(), &what).await?;
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn statements_unnest_one_array_per_column() {
        assert_eq!(
            upsert_sql(Table::TrendAliases),
            "INSERT INTO trend_aliases (alias_id, trend_id) SELECT u.alias_id, u.trend_id \
             FROM UNNEST($1::text[], $2::text[]) AS u(alias_id, trend_id) \
             ON CONFLICT (alias_id) DO UPDATE SET trend_id = excluded.trend_id"
        );
        assert_eq!(
            delete_sql(Table::CompetitorSentiment),
            "DELETE FROM competitor_sentiment USING UNNEST($1::text[], $2::text[]) \
             AS d(result_id, competitor_id) WHERE competitor_sentiment.result_id = d.result_id \
             AND competitor_sentiment.competitor_id = d.competitor_id"
        );
        assert_eq!(
            update_sql(Table::TrendAliases).as_deref(),
            Some(
                "UPDATE trend_aliases SET trend_id = u.trend_id \
                 FROM UNNEST($1::text[], $2::text[]) AS u(alias_id, trend_id) \
                 WHERE trend_aliases.alias_id = u.alias_id"
            )
        );
        assert!(update_sql(Table::BrandMetrics)
            .is_some_and(|s| s.contains("positions = u.positions::int8[]")));
    }

    #[test]
    fn array_literals_quote_and_escape() {
        assert_eq!(
            text_array_literal(&["a b".into(), "say \"hi\"".into(), "x\\y".into(), "".into()]),
            r#"{"a b","say \"hi\"","x\\y",""}"#
        );
        assert_eq!(text_array_literal(&[]), "{}");
        assert_eq!(int_array_literal(&[1, -2, 30]), "{1,-2,30}");
        assert_eq!(int_array_literal(&[]), "{}");
    }
}
