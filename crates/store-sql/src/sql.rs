//! The small interface a database backend gives the shared store: run a
//! statement, run a query, inside a transaction the backend opens.
//!
//! Statements are written in the subset of SQL that SQLite and PostgreSQL
//! both accept: numbered parameters `?1`, `?2`… (the PostgreSQL backend
//! rewrites them to `$1`, `$2`…), `ON CONFLICT`, `RETURNING`, `EXISTS`,
//! aliased subqueries. Values are of four kinds (integer, text, bytes,
//! null): identifiers and times are stored as text (times in a fixed-width
//! UTC form, so text order is time order), flags as the integers 0 and 1.

use lantern_store::{StoreError, StoreResult};

/// A value passed to or read from the database.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Value {
    /// SQL NULL.
    Null,
    /// A 64-bit integer (flags are 0 or 1).
    Int(i64),
    /// UTF-8 text.
    Text(String),
    /// Bytes.
    Blob(Vec<u8>),
}

impl From<i64> for Value {
    fn from(v: i64) -> Self {
        Value::Int(v)
    }
}
impl From<i32> for Value {
    fn from(v: i32) -> Self {
        Value::Int(v.into())
    }
}
impl From<u32> for Value {
    fn from(v: u32) -> Self {
        Value::Int(v.into())
    }
}
impl From<bool> for Value {
    fn from(v: bool) -> Self {
        Value::Int(v.into())
    }
}
impl From<String> for Value {
    fn from(v: String) -> Self {
        Value::Text(v)
    }
}
impl From<&String> for Value {
    fn from(v: &String) -> Self {
        Value::Text(v.clone())
    }
}
impl From<&str> for Value {
    fn from(v: &str) -> Self {
        Value::Text(v.to_string())
    }
}
impl From<Vec<u8>> for Value {
    fn from(v: Vec<u8>) -> Self {
        Value::Blob(v)
    }
}
impl From<&[u8]> for Value {
    fn from(v: &[u8]) -> Self {
        Value::Blob(v.to_vec())
    }
}
impl<T: Into<Value>> From<Option<T>> for Value {
    fn from(v: Option<T>) -> Self {
        v.map_or(Value::Null, Into::into)
    }
}

/// A type a column can be read as.
pub trait FromValue: Sized {
    /// Converts, or says what was found instead.
    fn from_value(v: &Value) -> Result<Self, &'static str>;
}

fn kind(v: &Value) -> &'static str {
    match v {
        Value::Null => "null",
        Value::Int(_) => "an integer",
        Value::Text(_) => "text",
        Value::Blob(_) => "bytes",
    }
}

impl FromValue for i64 {
    fn from_value(v: &Value) -> Result<Self, &'static str> {
        match v {
            Value::Int(i) => Ok(*i),
            other => Err(kind(other)),
        }
    }
}
impl FromValue for u64 {
    fn from_value(v: &Value) -> Result<Self, &'static str> {
        match v {
            Value::Int(i) => u64::try_from(*i).map_err(|_| "a negative integer"),
            other => Err(kind(other)),
        }
    }
}
impl FromValue for u32 {
    fn from_value(v: &Value) -> Result<Self, &'static str> {
        match v {
            Value::Int(i) => u32::try_from(*i).map_err(|_| "an integer out of range"),
            other => Err(kind(other)),
        }
    }
}
impl FromValue for bool {
    fn from_value(v: &Value) -> Result<Self, &'static str> {
        match v {
            Value::Int(0) => Ok(false),
            Value::Int(1) => Ok(true),
            Value::Int(_) => Err("an integer other than 0 or 1"),
            other => Err(kind(other)),
        }
    }
}
impl FromValue for String {
    fn from_value(v: &Value) -> Result<Self, &'static str> {
        match v {
            Value::Text(s) => Ok(s.clone()),
            other => Err(kind(other)),
        }
    }
}
impl FromValue for Vec<u8> {
    fn from_value(v: &Value) -> Result<Self, &'static str> {
        match v {
            Value::Blob(b) => Ok(b.clone()),
            other => Err(kind(other)),
        }
    }
}
impl<T: FromValue> FromValue for Option<T> {
    fn from_value(v: &Value) -> Result<Self, &'static str> {
        match v {
            Value::Null => Ok(None),
            other => T::from_value(other).map(Some),
        }
    }
}

/// One row of a query's result.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Row(pub Vec<Value>);

impl Row {
    /// Column `i` as a `T`; a mismatch is a backend error naming the column.
    pub fn get<T: FromValue>(&self, i: usize) -> StoreResult<T> {
        let v = self.0.get(i).ok_or_else(|| bad_column(i, "no such column"))?;
        T::from_value(v).map_err(|found| bad_column(i, found))
    }

    /// Column `i` as text, borrowed (no copy); a mismatch is a backend
    /// error naming the column.
    pub fn text(&self, i: usize) -> StoreResult<&str> {
        match self.0.get(i) {
            Some(Value::Text(s)) => Ok(s),
            Some(other) => Err(bad_column(i, kind(other))),
            None => Err(bad_column(i, "no such column")),
        }
    }
}

fn bad_column(i: usize, found: &str) -> StoreError {
    StoreError::backend(std::io::Error::other(format!(
        "column {i} of a stored row holds {found}, not the expected type"
    )))
}

/// A connection inside a transaction.
pub trait Conn {
    /// Runs a statement; returns the number of rows it changed.
    fn execute(&self, sql: &str, params: &[Value]) -> StoreResult<u64>;
    /// Runs a query; returns every row.
    fn query(&self, sql: &str, params: &[Value]) -> StoreResult<Vec<Row>>;
    /// Runs a query and hands each row to `each` in turn without keeping
    /// it, for queries that read thousands of rows to keep a few: a
    /// backend may refill one row from one call to the next instead of
    /// allocating each (the SQLite backend does). Stops at the first error
    /// `each` returns.
    fn query_each(
        &self,
        sql: &str,
        params: &[Value],
        each: &mut dyn FnMut(&Row) -> StoreResult<()>,
    ) -> StoreResult<()> {
        for row in self.query(sql, params)? {
            each(&row)?;
        }
        Ok(())
    }
}

/// Conveniences over [`Conn`].
pub trait ConnExt: Conn {
    /// The first row, if any.
    fn query_opt(&self, sql: &str, params: &[Value]) -> StoreResult<Option<Row>> {
        Ok(self.query(sql, params)?.into_iter().next())
    }
    /// The first column of the one row a query must return.
    fn query_value<T: FromValue>(&self, sql: &str, params: &[Value]) -> StoreResult<T> {
        self.query_opt(sql, params)?
            .ok_or_else(|| StoreError::backend(std::io::Error::other("a query that must return a row returned none")))?
            .get(0)
    }
    /// Inserts `rows` into `table (columns)` with as few statements as the
    /// parameter limit allows: one statement per row cost a round trip
    /// each on a database across a socket, and the ledger's salts alone
    /// were 40 rows per registered person. Every row must have as many
    /// values as `columns` names; returns the number of rows inserted.
    fn insert_rows(&self, table: &str, columns: &str, rows: &[Vec<Value>]) -> StoreResult<u64> {
        let width = columns.split(',').count();
        if let Some(bad) = rows.iter().find(|r| r.len() != width) {
            return Err(StoreError::backend(std::io::Error::other(format!(
                "{table}: a row of {} values for {width} columns",
                bad.len()
            ))));
        }
        let mut inserted = 0;
        for chunk in rows.chunks((MAX_PARAMS / width).max(1)) {
            let mut sql = format!("INSERT INTO {table} ({columns}) VALUES ");
            let mut n = 0;
            for (i, row) in chunk.iter().enumerate() {
                sql.push_str(if i == 0 { "(" } else { ", (" });
                for j in 0..row.len() {
                    n += 1;
                    sql.push_str(&format!("{}?{n}", if j == 0 { "" } else { ", " }));
                }
                sql.push(')');
            }
            let values: Vec<Value> = chunk.iter().flatten().cloned().collect();
            inserted += self.execute(&sql, &values)?;
        }
        Ok(inserted)
    }
}

/// The most parameters one statement of [`ConnExt::insert_rows`] takes:
/// below SQLite's limit (32,766 since 3.32) and PostgreSQL's (65,535), and
/// small enough that a statement stays a few kilobytes.
const MAX_PARAMS: usize = 1_000;

impl<C: Conn + ?Sized> ConnExt for C {}

/// A database the shared store runs on: it opens transactions.
pub trait Backend: Send + Sync {
    /// Runs `f` in one write transaction: all of it is committed, or none.
    /// Write transactions run one at a time (the ledger appends entries in
    /// order, numbered by the previous entry).
    fn write<T>(&self, f: impl FnOnce(&dyn Conn) -> StoreResult<T>) -> StoreResult<T>;
    /// Runs `f` in one read-only transaction that sees a single snapshot.
    fn read<T>(&self, f: impl FnOnce(&dyn Conn) -> StoreResult<T>) -> StoreResult<T>;
    /// Refreshes the query planner's statistics after a bulk load (a
    /// copied deployment). Nothing by default; PostgreSQL plans a table
    /// filled in one transaction as if it were empty until it is analysed,
    /// and read a whole log table to look up a few rows of it.
    fn analyze(&self) -> StoreResult<()> {
        Ok(())
    }
}

/// Builds a parameter slice: `params![a, b]` is `&[Value::from(a), Value::from(b)]`.
#[macro_export]
macro_rules! params {
    ($($v:expr),* $(,)?) => {
        &[$($crate::Value::from($v)),*][..]
    };
}
