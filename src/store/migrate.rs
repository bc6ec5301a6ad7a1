//! Moving a site from SQLite to PostgreSQL (`broadsheet migrate-to`): every
//! row of every table, copied in one PostgreSQL transaction into a database
//! that the PostgreSQL migrations have just made. Either all of the site
//! arrives or none of it does; the SQLite file is only read.

use sqlx::{Any, Row, Transaction};

use super::{Backend, Store, StoreError, StoreResult};

/// Tables not copied: the migrations' own record, and what the target
/// makes again by itself (the search index, filled at start-up from the
/// articles; the cache-invalidation log, which only running servers read).
fn skipped(table: &str) -> bool {
    table.starts_with("sqlite_")
        || table.starts_with("_sqlx")
        || table == "article_search"
        || table.starts_with("article_search_")
        || table == "cache_invalidations"
}

/// The rows a value is bound as, by the target column's type.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum ColumnType {
    Integer,
    Real,
    Text,
    Bytes,
}

impl ColumnType {
    fn from_postgres(name: &str) -> Option<ColumnType> {
        Some(match name {
            "bigint" | "integer" | "smallint" => ColumnType::Integer,
            "double precision" | "real" | "numeric" => ColumnType::Real,
            "text" | "character varying" | "character" => ColumnType::Text,
            "bytea" => ColumnType::Bytes,
            _ => return None,
        })
    }
}

/// One value read from SQLite, converted to its target column's type.
#[derive(Debug, Clone)]
enum Value {
    Integer(Option<i64>),
    Real(Option<f64>),
    Text(Option<String>),
    Bytes(Option<Vec<u8>>),
}

/// Reads column `i` of a SQLite row as the target's type wants it (SQLite
/// keeps whatever type a value was written with).
fn read(row: &sqlx::any::AnyRow, i: usize, as_type: ColumnType) -> Result<Value, String> {
    let int = row.try_get::<Option<i64>, _>(i).ok();
    let real = || row.try_get::<Option<f64>, _>(i).ok();
    let text = || row.try_get::<Option<String>, _>(i).ok();
    let bytes = || row.try_get::<Option<Vec<u8>>, _>(i).ok();
    let value = match as_type {
        ColumnType::Integer => int
            .or_else(|| real().map(|r| r.map(|r| r as i64)))
            .or_else(|| text().and_then(|t| t.map(|t| t.trim().parse::<i64>().ok().map(Some)).unwrap_or(Some(None))))
            .map(Value::Integer),
        ColumnType::Real => real().or_else(|| int.map(|n| n.map(|n| n as f64))).map(Value::Real),
        ColumnType::Text => text()
            .or_else(|| int.map(|n| n.map(|n| n.to_string())))
            .or_else(|| real().map(|r| r.map(|r| r.to_string())))
            .map(Value::Text),
        ColumnType::Bytes => bytes().or_else(|| text().map(|t| t.map(String::into_bytes))).map(Value::Bytes),
    };
    value.ok_or_else(|| format!("column {i} does not read as {as_type:?}"))
}

/// How many rows of each table were copied.
pub type Copied = Vec<(String, u64)>;

impl Store {
    /// Copies this SQLite site into `target`, a PostgreSQL database with no
    /// site in it yet (its tables made by the migrations, all empty).
    pub async fn copy_into(&self, target: &Store) -> StoreResult<Copied> {
        if self.backend != Backend::Sqlite || target.backend != Backend::Postgres {
            return Err(StoreError::Rejected("a site moves from SQLite to PostgreSQL".into()));
        }
        let tables: Vec<(String,)> =
            sqlx::query_as("SELECT name FROM sqlite_master WHERE type = 'table' ORDER BY rowid")
                .fetch_all(&self.pool)
                .await?;
        let tables: Vec<String> = tables.into_iter().map(|(t,)| t).filter(|t| !skipped(t)).collect();
        let mut tx = target.pool.begin().await?;
        // Nothing may be there already: a site is moved into an empty database.
        for table in &tables {
            let (n,): (i64,) = sqlx::query_as(sqlx::AssertSqlSafe(format!("SELECT COUNT(*) FROM {table}")))
                .fetch_one(&mut *tx)
                .await
                .map_err(|e| StoreError::Rejected(format!("the target has no table {table} ({e})")))?;
            if n > 0 {
                return Err(StoreError::Rejected(format!(
                    "the target database already holds a site ({n} rows in {table}); nothing was copied. \
                     Give an empty database."
                )));
            }
        }
        let mut copied = Vec::new();
        for table in &tables {
            let n = copy_table(&self.pool, &mut tx, table).await?;
            copied.push((table.clone(), n));
        }
        tx.commit().await?;
        Ok(copied)
    }
}

/// Copies one table's rows, in the order they were written (a row that
/// refers to another of its table, such as a reply, comes after it).
async fn copy_table(source: &sqlx::AnyPool, tx: &mut Transaction<'static, Any>, table: &str) -> StoreResult<u64> {
    let columns: Vec<(String, String)> = sqlx::query_as(
        "SELECT column_name::text, data_type::text FROM information_schema.columns
         WHERE table_schema = current_schema() AND table_name = $1 ORDER BY ordinal_position",
    )
    .bind(table)
    .fetch_all(&mut **tx)
    .await?;
    let source_columns: Vec<(String,)> =
        sqlx::query_as(sqlx::AssertSqlSafe(format!("SELECT name FROM pragma_table_info('{table}')")))
            .fetch_all(source)
            .await?;
    let mut wanted: Vec<(String, ColumnType)> = Vec::new();
    for (name,) in &source_columns {
        let Some((_, data_type)) = columns.iter().find(|(c, _)| c == name) else {
            return Err(StoreError::Rejected(format!("{table}.{name} has no column in the target: is it up to date?")));
        };
        let Some(kind) = ColumnType::from_postgres(data_type) else {
            return Err(StoreError::Rejected(format!("{table}.{name}: cannot copy into a column of type {data_type}")));
        };
        wanted.push((name.clone(), kind));
    }
    let list = wanted.iter().map(|(c, _)| c.as_str()).collect::<Vec<_>>().join(", ");
    let rows = sqlx::query(sqlx::AssertSqlSafe(format!("SELECT {list} FROM {table} ORDER BY rowid")))
        .fetch_all(source)
        .await?;
    // As many rows a statement as PostgreSQL's 65,535 parameters allow.
    let per_statement = (60_000 / wanted.len().max(1)).clamp(1, 500);
    let mut copied = 0u64;
    for chunk in rows.chunks(per_statement) {
        let mut values = Vec::with_capacity(chunk.len() * wanted.len());
        for row in chunk {
            for (i, (name, kind)) in wanted.iter().enumerate() {
                values.push(read(row, i, *kind).map_err(|e| StoreError::Rejected(format!("{table}.{name}: {e}")))?);
            }
        }
        let mut placeholders = Vec::with_capacity(chunk.len());
        for r in 0..chunk.len() {
            let row: Vec<String> = (0..wanted.len()).map(|c| format!("${}", r * wanted.len() + c + 1)).collect();
            placeholders.push(format!("({})", row.join(", ")));
        }
        let sql = format!("INSERT INTO {table} ({list}) VALUES {}", placeholders.join(", "));
        let mut query = sqlx::query(sqlx::AssertSqlSafe(sql));
        for value in values {
            query = match value {
                Value::Integer(v) => query.bind(v),
                Value::Real(v) => query.bind(v),
                Value::Text(v) => query.bind(v),
                Value::Bytes(v) => query.bind(v),
            };
        }
        query.execute(&mut **tx).await?;
        copied += chunk.len() as u64;
    }
    // New rows continue after the copied ones.
    if wanted.iter().any(|(c, _)| c == "id") {
        sqlx::query(sqlx::AssertSqlSafe(format!(
            "SELECT setval(pg_get_serial_sequence('{table}', 'id'), COALESCE(MAX(id), 1), MAX(id) IS NOT NULL) \
             FROM {table} HAVING pg_get_serial_sequence('{table}', 'id') IS NOT NULL"
        )))
        .execute(&mut **tx)
        .await?;
    }
    Ok(copied)
}
