//! Lantern's embedded storage: the [`Store`](lantern_store::Store) trait on SQLite.
//!
//! One file in the data folder, in WAL mode so readers never wait for the
//! writer. Writes go through a single connection (SQLite allows one writer
//! at a time anyway) inside `BEGIN IMMEDIATE` transactions; reads take a
//! connection from a small pool. `synchronous = FULL`: an acknowledged
//! change survives a power cut. The statements themselves are shared with
//! the PostgreSQL backend (crate `lantern-store-sql`).

mod schema;

use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};

use lantern_store::{StoreError, StoreResult};
use lantern_store_sql::{Backend, Conn, Row, SqlStore, Value};
use lantern_vault::Keyring;
use rusqlite::types::{ToSqlOutput, ValueRef};
use rusqlite::{Connection, OpenFlags, Transaction, TransactionBehavior};

/// Lantern's store on SQLite.
pub type SqliteStore = SqlStore<Sqlite>;

/// Opens (creating if needed) the database at `path`, brings its schema up
/// to date and returns the store; `keys` seal the protected fields.
pub fn open(path: &Path, keys: Arc<Keyring>) -> StoreResult<SqliteStore> {
    SqlStore::new(Sqlite::open(path)?, keys)
}

/// The SQLite connections: one writer, a pool of readers.
pub struct Sqlite {
    path: PathBuf,
    writer: Mutex<Connection>,
    readers: Mutex<Vec<Connection>>,
}

impl std::fmt::Debug for Sqlite {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Sqlite").field("path", &self.path).finish()
    }
}

/// Readers kept open between requests: enough for a busy server's blocking
/// pool, so requests do not pay for opening connections.
const MAX_IDLE_READERS: usize = 32;

/// Prepared statements kept per connection: the shared store runs a few
/// dozen distinct statements, plus searches built from their filters.
const STATEMENT_CACHE: usize = 128;

fn db(e: rusqlite::Error) -> StoreError {
    StoreError::backend(e)
}

impl Sqlite {
    /// Opens (creating if needed) the database file and migrates it.
    pub fn open(path: &Path) -> StoreResult<Self> {
        let mut writer = connect(path, true)?;
        schema::migrate(&mut writer)?;
        Ok(Sqlite {
            path: path.to_path_buf(),
            writer: Mutex::new(writer),
            readers: Mutex::new(Vec::new()),
        })
    }

    /// The database file.
    pub fn path(&self) -> &Path {
        &self.path
    }
}

impl Backend for Sqlite {
    fn write<T>(&self, f: impl FnOnce(&dyn Conn) -> StoreResult<T>) -> StoreResult<T> {
        let mut conn = self.writer.lock().unwrap_or_else(|e| e.into_inner());
        let tx = conn
            .transaction_with_behavior(TransactionBehavior::Immediate)
            .map_err(db)?;
        let value = f(&Tx(&tx))?;
        tx.commit().map_err(db)?;
        Ok(value)
    }

    fn read<T>(&self, f: impl FnOnce(&dyn Conn) -> StoreResult<T>) -> StoreResult<T> {
        let pooled = self.readers.lock().unwrap_or_else(|e| e.into_inner()).pop();
        let mut conn = match pooled {
            Some(c) => c,
            None => connect(&self.path, false)?,
        };
        let result = {
            let tx = conn.transaction().map_err(db)?;
            let value = f(&Tx(&tx));
            tx.finish().map_err(db)?;
            value
        };
        let mut pool = self.readers.lock().unwrap_or_else(|e| e.into_inner());
        if pool.len() < MAX_IDLE_READERS {
            pool.push(conn);
        }
        result
    }
}

/// A transaction seen through the shared interface.
struct Tx<'a, 'b>(&'a Transaction<'b>);

/// A shared value as a SQLite parameter.
struct Param<'a>(&'a Value);

impl rusqlite::ToSql for Param<'_> {
    fn to_sql(&self) -> rusqlite::Result<ToSqlOutput<'_>> {
        Ok(match self.0 {
            Value::Null => ToSqlOutput::Borrowed(ValueRef::Null),
            Value::Int(i) => ToSqlOutput::Borrowed(ValueRef::Integer(*i)),
            Value::Text(s) => ToSqlOutput::Borrowed(ValueRef::Text(s.as_bytes())),
            Value::Blob(b) => ToSqlOutput::Borrowed(ValueRef::Blob(b)),
        })
    }
}

impl Conn for Tx<'_, '_> {
    fn execute(&self, sql: &str, params: &[Value]) -> StoreResult<u64> {
        let mut stmt = self.0.prepare_cached(sql).map_err(db)?;
        let n = stmt
            .execute(rusqlite::params_from_iter(params.iter().map(Param)))
            .map_err(db)?;
        Ok(n as u64)
    }

    fn query(&self, sql: &str, params: &[Value]) -> StoreResult<Vec<Row>> {
        let mut stmt = self.0.prepare_cached(sql).map_err(db)?;
        let columns = stmt.column_count();
        let mut rows = stmt
            .query(rusqlite::params_from_iter(params.iter().map(Param)))
            .map_err(db)?;
        let mut out = Vec::new();
        while let Some(row) = rows.next().map_err(db)? {
            let values = (0..columns)
                .map(|i| owned(row.get_ref(i).map_err(db)?))
                .collect::<StoreResult<Vec<Value>>>()?;
            out.push(Row(values));
        }
        Ok(out)
    }

    fn query_each(
        &self,
        sql: &str,
        params: &[Value],
        each: &mut dyn FnMut(&Row) -> StoreResult<()>,
    ) -> StoreResult<()> {
        let mut stmt = self.0.prepare_cached(sql).map_err(db)?;
        let mut row = Row(vec![Value::Null; stmt.column_count()]);
        let mut rows = stmt
            .query(rusqlite::params_from_iter(params.iter().map(Param)))
            .map_err(db)?;
        while let Some(r) = rows.next().map_err(db)? {
            for (i, value) in row.0.iter_mut().enumerate() {
                match (value, r.get_ref(i).map_err(db)?) {
                    // Text refills the string it held: no allocation per row.
                    (Value::Text(s), ValueRef::Text(t)) => {
                        s.clear();
                        s.push_str(std::str::from_utf8(t).map_err(StoreError::backend)?);
                    }
                    (value, v) => *value = owned(v)?,
                }
            }
            each(&row)?;
        }
        Ok(())
    }
}

/// A value read from SQLite, owned.
fn owned(v: ValueRef<'_>) -> StoreResult<Value> {
    Ok(match v {
        ValueRef::Null => Value::Null,
        ValueRef::Integer(n) => Value::Int(n),
        ValueRef::Text(t) => Value::Text(String::from_utf8(t.to_vec()).map_err(StoreError::backend)?),
        ValueRef::Blob(b) => Value::Blob(b.to_vec()),
        ValueRef::Real(_) => {
            return Err(StoreError::backend(std::io::Error::other(
                "a stored value is a floating-point number; Lantern stores none",
            )))
        }
    })
}

fn connect(path: &Path, create: bool) -> StoreResult<Connection> {
    let mut flags = OpenFlags::SQLITE_OPEN_READ_WRITE | OpenFlags::SQLITE_OPEN_NO_MUTEX | OpenFlags::SQLITE_OPEN_URI;
    if create {
        flags |= OpenFlags::SQLITE_OPEN_CREATE;
    }
    let conn = Connection::open_with_flags(path, flags).map_err(db)?;
    conn.busy_timeout(std::time::Duration::from_secs(10)).map_err(db)?;
    conn.set_prepared_statement_cache_capacity(STATEMENT_CACHE);
    if create {
        // The journal mode is a property of the file: set once, by the writer.
        conn.execute_batch("PRAGMA journal_mode = WAL;").map_err(db)?;
    }
    conn.execute_batch(
        "PRAGMA synchronous = FULL;
         PRAGMA foreign_keys = ON;
         PRAGMA temp_store = MEMORY;
         PRAGMA cache_size = -16000;",
    )
    .map_err(db)?;
    Ok(conn)
}

#[cfg(test)]
mod tests {
    use super::*;
    use lantern_store_sql::ConnExt;

    #[test]
    fn rows_handed_one_by_one_read_as_rows_kept() {
        let dir = tempfile::tempdir().unwrap();
        let db = Sqlite::open(&dir.path().join("t.db")).unwrap();
        // Text of changing lengths, then none, then text again: the
        // refilled row must hold each row's own values.
        let sql = "SELECT column1, column2 FROM (VALUES ('a longer text', 1), ('b', NULL), (NULL, 3), ('dé', 4))";
        let (kept, handed) = db
            .read(|tx| {
                let kept = tx.query(sql, &[])?;
                let mut handed = Vec::new();
                tx.query_each(sql, &[], &mut |r| {
                    handed.push(r.clone());
                    Ok(())
                })?;
                Ok((kept, handed))
            })
            .unwrap();
        assert_eq!(kept.len(), 4);
        assert_eq!(handed, kept);
        assert_eq!(handed[3].text(0).unwrap(), "dé");
        assert!(handed[2].text(0).is_err(), "a null is not text");
    }

    #[test]
    fn rows_inserted_together_are_each_stored_even_past_one_statement() {
        let dir = tempfile::tempdir().unwrap();
        let db = Sqlite::open(&dir.path().join("t.db")).unwrap();
        // 700 rows of 3 values: more than one statement's parameters.
        let rows: Vec<Vec<Value>> = (0..700i64)
            .map(|i| vec![i.into(), format!("r{i}").into(), (i % 3 == 0).then_some(i * 2).into()])
            .collect();
        let (inserted, stored) = db
            .write(|tx| {
                tx.execute("CREATE TABLE t (a INTEGER PRIMARY KEY, b TEXT, c INTEGER)", &[])?;
                let inserted = tx.insert_rows("t", "a, b, c", &rows)?;
                Ok((inserted, tx.query("SELECT a, b, c FROM t ORDER BY a", &[])?))
            })
            .unwrap();
        assert_eq!(inserted, 700);
        assert_eq!(stored.into_iter().map(|r| r.0).collect::<Vec<_>>(), rows);
        let short = db.write(|tx| tx.insert_rows("t", "a, b, c", &[vec![Value::Int(1000)]]));
        assert!(short.is_err(), "a row without a value for every column is refused");
        let none = db.write(|tx| tx.insert_rows("t", "a, b, c", &[])).unwrap();
        assert_eq!(none, 0);
    }

    #[test]
    fn an_error_from_the_visitor_stops_the_rows() {
        let dir = tempfile::tempdir().unwrap();
        let db = Sqlite::open(&dir.path().join("t.db")).unwrap();
        let mut seen = 0;
        let result = db.read(|tx| {
            tx.query_each("SELECT column1 FROM (VALUES (1), (2), (3))", &[], &mut |_| {
                seen += 1;
                Err(StoreError::backend(std::io::Error::other("stop")))
            })
        });
        assert!(result.is_err());
        assert_eq!(seen, 1);
    }
}
