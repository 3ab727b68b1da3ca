//! Lantern's storage on PostgreSQL, for deployments that outgrow one
//! machine: the same tables and statements as the SQLite backend (crate
//! `lantern-store-sql`), so both behave the same and pass the same
//! conformance suite.
//!
//! Connections come from a small pool. Write transactions take one
//! transaction-scoped advisory lock, so they run one at a time across every
//! Lantern process on the database, as SQLite's single writer does: the log
//! and the audit trail are numbered by their previous entry, and optimistic
//! version checks need no retry loop. Read transactions are `REPEATABLE
//! READ, READ ONLY`: one snapshot each, never blocked by the writer.

use std::cell::RefCell;
use std::collections::HashMap;
use std::sync::{Arc, Mutex};

use bytes::BytesMut;
use lantern_store::{StoreError, StoreResult};
use lantern_store_sql::{Backend, Conn, Row, SqlStore, Value};
use lantern_vault::Keyring;
use postgres::types::{FromSql, IsNull, ToSql, Type};
use postgres::{Client, IsolationLevel, NoTls, Statement};

/// Lantern's store on PostgreSQL.
pub type PostgresStore = SqlStore<Postgres>;

/// Connects to the database at `url` (`postgres://user@host:port/db`),
/// brings its schema up to date and returns the store; `keys` seal the
/// protected fields.
pub fn open(url: &str, keys: Arc<Keyring>) -> StoreResult<PostgresStore> {
    SqlStore::new(Postgres::connect(url)?, keys)
}

/// The advisory lock every write transaction (and every migration) holds:
/// an arbitrary constant, "LANTERN" in ASCII.
const WRITE_LOCK: i64 = 0x004c_414e_5445_524e;

/// Connections kept open between requests.
const MAX_IDLE: usize = 32;

/// The migrations, in order; the n-th brings the schema to version n.
const MIGRATIONS: &[&str] = &[
    include_str!("../migrations/0001_init.sql"),
    include_str!("../migrations/0002_cases.sql"),
    include_str!("../migrations/0003_interviews.sql"),
    include_str!("../migrations/0004_case_notes.sql"),
    include_str!("../migrations/0005_availability.sql"),
    include_str!("../migrations/0006_tracing.sql"),
    include_str!("../migrations/0007_interviewer_languages.sql"),
    include_str!("../migrations/0008_evidence.sql"),
    include_str!("../migrations/0009_reseal.sql"),
    include_str!("../migrations/0010_messages.sql"),
    include_str!("../migrations/0011_visits.sql"),
    include_str!("../migrations/0012_testimonies.sql"),
    include_str!("../migrations/0013_candidate_data.sql"),
    include_str!("../migrations/0014_request_photos.sql"),
    include_str!("../migrations/0015_token_order.sql"),
    include_str!("../migrations/0016_people_counts.sql"),
    include_str!("../migrations/0017_name_pairs.sql"),
    include_str!("../migrations/0018_people_counts_by_statement.sql"),
    include_str!("../migrations/0019_ascii_spellings.sql"),
];

/// A pooled connection and the statements prepared on it.
struct Pooled {
    client: Client,
    statements: HashMap<String, Statement>,
    last_used: std::time::Instant,
}

/// Prepared statements kept per connection: the store runs a few dozen
/// distinct statements, plus those written per call.
const STATEMENT_CACHE: usize = 256;

/// Idle time after which a pooled connection is checked before use.
const PROBE_AFTER_IDLE: std::time::Duration = std::time::Duration::from_secs(1);

/// A pool of connections to one PostgreSQL database.
pub struct Postgres {
    config: postgres::Config,
    idle: Mutex<Vec<Pooled>>,
}

impl std::fmt::Debug for Postgres {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        // Never the password.
        f.debug_struct("Postgres")
            .field("hosts", &self.config.get_hosts())
            .field("dbname", &self.config.get_dbname())
            .finish()
    }
}

impl Drop for Postgres {
    fn drop(&mut self) {
        // Closing a connection blocks on the client's own runtime, which
        // tokio refuses on a thread that drives async tasks; that is where
        // the server's state, with this pool, is dropped at shutdown. The
        // idle connections are closed on a thread of their own.
        let idle = std::mem::take(self.idle.get_mut().unwrap_or_else(|e| e.into_inner()));
        if !idle.is_empty() {
            let _ = std::thread::spawn(move || drop(idle)).join();
        }
    }
}

fn db(e: postgres::Error) -> StoreError {
    StoreError::backend(e)
}

impl Postgres {
    /// Connects to `url` and migrates the schema.
    pub fn connect(url: &str) -> StoreResult<Self> {
        let config: postgres::Config = url.parse().map_err(db)?;
        let pg = Postgres {
            config,
            idle: Mutex::new(Vec::new()),
        };
        let mut conn = pg.take()?;
        migrate(&mut conn.client)?;
        pg.give_back(conn);
        Ok(pg)
    }

    fn take(&self) -> StoreResult<Pooled> {
        loop {
            let pooled = self.idle.lock().unwrap_or_else(|e| e.into_inner()).pop();
            match pooled {
                // A connection the server closed (restart, idle timeout) is dropped.
                Some(p) if p.client.is_closed() => continue,
                Some(p) => return Ok(p),
                None => return self.fresh(),
            }
        }
    }

    fn fresh(&self) -> StoreResult<Pooled> {
        Ok(Pooled {
            client: self.config.connect(NoTls).map_err(db)?,
            statements: HashMap::new(),
            last_used: std::time::Instant::now(),
        })
    }

    fn give_back(&self, mut conn: Pooled) {
        conn.last_used = std::time::Instant::now();
        let mut idle = self.idle.lock().unwrap_or_else(|e| e.into_inner());
        if idle.len() < MAX_IDLE && !conn.client.is_closed() {
            idle.push(conn);
        }
    }

    fn run<T>(&self, write: bool, f: impl FnOnce(&dyn Conn) -> StoreResult<T>) -> StoreResult<T> {
        let mut conn = self.take()?;
        // A connection idle for a while may have been closed by the server
        // (restart, failover, idle timeout) without the client noticing:
        // an empty query finds out, and a fresh connection replaces it.
        // Busy connections skip the round trip; one closed under them fails
        // its request, as the server going away mid-request would.
        if conn.last_used.elapsed() >= PROBE_AFTER_IDLE && conn.client.batch_execute("").is_err() {
            conn = self.fresh()?;
        }
        let result = (|| {
            let Pooled { client, statements, .. } = &mut conn;
            let tx = if write {
                let mut tx = client.transaction().map_err(db)?;
                tx.execute("SELECT pg_advisory_xact_lock($1)", &[&WRITE_LOCK])
                    .map_err(db)?;
                tx
            } else {
                client
                    .build_transaction()
                    .isolation_level(IsolationLevel::RepeatableRead)
                    .read_only(true)
                    .start()
                    .map_err(db)?
            };
            let tx = Tx {
                tx: RefCell::new(tx),
                statements: RefCell::new(statements),
            };
            let value = f(&tx)?;
            tx.tx.into_inner().commit().map_err(db)?;
            Ok(value)
        })();
        // A failed transaction was rolled back when dropped; the connection
        // is still good unless the server went away.
        self.give_back(conn);
        result
    }
}

impl Backend for Postgres {
    fn write<T>(&self, f: impl FnOnce(&dyn Conn) -> StoreResult<T>) -> StoreResult<T> {
        self.run(true, f)
    }

    fn read<T>(&self, f: impl FnOnce(&dyn Conn) -> StoreResult<T>) -> StoreResult<T> {
        self.run(false, f)
    }

    fn analyze(&self) -> StoreResult<()> {
        self.run(true, |tx| tx.execute("ANALYZE", &[]).map(|_| ()))
    }
}

fn migrate(client: &mut Client) -> StoreResult<()> {
    let mut tx = client.transaction().map_err(db)?;
    // Two servers starting together: one migrates, the other waits and
    // then finds nothing left to do.
    tx.execute("SELECT pg_advisory_xact_lock($1)", &[&WRITE_LOCK])
        .map_err(db)?;
    tx.batch_execute(
        "CREATE TABLE IF NOT EXISTS lantern_schema (version BIGINT PRIMARY KEY, applied_at TIMESTAMPTZ NOT NULL)",
    )
    .map_err(db)?;
    let current: i64 = tx
        .query_one("SELECT COALESCE(MAX(version), 0) FROM lantern_schema", &[])
        .map_err(db)?
        .get(0);
    for (i, sql) in MIGRATIONS.iter().enumerate().skip(current as usize) {
        tx.batch_execute(sql).map_err(db)?;
        tx.execute(
            "INSERT INTO lantern_schema (version, applied_at) VALUES ($1, now())",
            &[&(i as i64 + 1)],
        )
        .map_err(db)?;
    }
    tx.commit().map_err(db)
}

/// A transaction seen through the shared interface.
struct Tx<'a> {
    tx: RefCell<postgres::Transaction<'a>>,
    statements: RefCell<&'a mut HashMap<String, Statement>>,
}

impl Tx<'_> {
    /// The statement for `sql` (written with `?N` parameters), prepared once
    /// per connection.
    fn statement(&self, sql: &str) -> StoreResult<Statement> {
        if let Some(s) = self.statements.borrow().get(sql) {
            return Ok(s.clone());
        }
        let prepared = self.tx.borrow_mut().prepare(&numbered_params(sql)).map_err(db)?;
        let mut statements = self.statements.borrow_mut();
        // Some statements are written per call (a page's offset, a number
        // of rows inserted together): past the bound the cache starts
        // again, and the dropped statements are closed on the server.
        if statements.len() >= STATEMENT_CACHE {
            statements.clear();
        }
        statements.insert(sql.to_string(), prepared.clone());
        Ok(prepared)
    }
}

impl Conn for Tx<'_> {
    fn execute(&self, sql: &str, params: &[Value]) -> StoreResult<u64> {
        let stmt = self.statement(sql)?;
        let params: Vec<Param<'_>> = params.iter().map(Param).collect();
        let refs: Vec<&(dyn ToSql + Sync)> = params.iter().map(|p| p as &(dyn ToSql + Sync)).collect();
        self.tx.borrow_mut().execute(&stmt, &refs).map_err(db)
    }

    fn query(&self, sql: &str, params: &[Value]) -> StoreResult<Vec<Row>> {
        let stmt = self.statement(sql)?;
        let params: Vec<Param<'_>> = params.iter().map(Param).collect();
        let refs: Vec<&(dyn ToSql + Sync)> = params.iter().map(|p| p as &(dyn ToSql + Sync)).collect();
        let rows = self.tx.borrow_mut().query(&stmt, &refs).map_err(db)?;
        rows.iter()
            .map(|r| {
                (0..r.len())
                    .map(|i| r.try_get::<_, Cell>(i).map(|c| c.0).map_err(db))
                    .collect::<StoreResult<Vec<_>>>()
                    .map(Row)
            })
            .collect()
    }
}

/// Rewrites SQLite-style `?N` parameters to PostgreSQL's `$N`, leaving
/// quoted literals and identifiers alone.
fn numbered_params(sql: &str) -> String {
    let mut out = String::with_capacity(sql.len());
    let mut quote: Option<char> = None;
    let mut chars = sql.chars().peekable();
    while let Some(c) = chars.next() {
        match quote {
            Some(q) => {
                if c == q {
                    quote = None;
                }
                out.push(c);
            }
            None if c == '\'' || c == '"' => {
                quote = Some(c);
                out.push(c);
            }
            None if c == '?' && chars.peek().is_some_and(char::is_ascii_digit) => out.push('$'),
            None => out.push(c),
        }
    }
    out
}

/// A shared value as a PostgreSQL parameter, converted to the type the
/// server inferred for its place in the statement.
#[derive(Debug)]
struct Param<'a>(&'a Value);

type BoxError = Box<dyn std::error::Error + Sync + Send>;

impl ToSql for Param<'_> {
    fn to_sql(&self, ty: &Type, out: &mut BytesMut) -> Result<IsNull, BoxError> {
        match self.0 {
            Value::Null => Ok(IsNull::Yes),
            Value::Int(i) => match *ty {
                Type::INT2 => i16::try_from(*i)?.to_sql(ty, out),
                Type::INT4 => i32::try_from(*i)?.to_sql(ty, out),
                Type::INT8 => i.to_sql(ty, out),
                Type::BOOL => (*i != 0).to_sql(ty, out),
                _ => Err(format!("an integer cannot be stored as {ty}").into()),
            },
            Value::Text(s) => s.as_str().to_sql(ty, out),
            Value::Blob(b) => b.as_slice().to_sql(ty, out),
        }
    }

    fn accepts(_: &Type) -> bool {
        true
    }

    postgres::types::to_sql_checked!();
}

/// A column read into a shared value.
struct Cell(Value);

impl<'a> FromSql<'a> for Cell {
    fn from_sql(ty: &Type, raw: &'a [u8]) -> Result<Self, BoxError> {
        Ok(Cell(match *ty {
            Type::INT2 => Value::Int(i16::from_sql(ty, raw)?.into()),
            Type::INT4 => Value::Int(i32::from_sql(ty, raw)?.into()),
            Type::INT8 => Value::Int(i64::from_sql(ty, raw)?),
            Type::BOOL => Value::Int(bool::from_sql(ty, raw)?.into()),
            Type::BYTEA => Value::Blob(Vec::<u8>::from_sql(ty, raw)?),
            _ if <&str as FromSql>::accepts(ty) => Value::Text(String::from_sql(ty, raw)?),
            _ => return Err(format!("Lantern does not read columns of type {ty}").into()),
        }))
    }

    fn from_sql_null(_: &Type) -> Result<Self, BoxError> {
        Ok(Cell(Value::Null))
    }

    fn accepts(_: &Type) -> bool {
        true
    }
}

/// The environment variable naming the PostgreSQL server tests run against
/// (`postgres://USER@HOST:PORT`, no database): `scripts/test.sh` starts a
/// private server and sets it.
pub const TEST_SERVER_ENV: &str = "LANTERN_TEST_POSTGRES";

/// Creates an empty database with a fresh name on the test server (see
/// [`TEST_SERVER_ENV`]) and returns its URL; `None` when no test server is
/// set.
pub fn fresh_test_database() -> StoreResult<Option<String>> {
    use std::sync::atomic::{AtomicU32, Ordering};
    static COUNTER: AtomicU32 = AtomicU32::new(0);
    let Ok(server) = std::env::var(TEST_SERVER_ENV) else {
        return Ok(None);
    };
    let server = server.trim_end_matches('/');
    let nanos = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.subsec_nanos())
        .unwrap_or(0);
    let name = format!(
        "lantern_test_{}_{}_{nanos}",
        std::process::id(),
        COUNTER.fetch_add(1, Ordering::Relaxed)
    );
    let mut admin = Client::connect(&format!("{server}/postgres"), NoTls).map_err(db)?;
    admin
        .batch_execute(&format!("CREATE DATABASE {name} TEMPLATE template0 ENCODING 'UTF8'"))
        .map_err(db)?;
    Ok(Some(format!("{server}/{name}")))
}

#[cfg(test)]
mod tests {
    use super::numbered_params;

    #[test]
    fn parameters_are_renumbered_outside_quotes() {
        assert_eq!(
            numbered_params("SELECT ?1, '?2', \"a?3\" FROM t WHERE x = ?12 AND y = ?"),
            "SELECT $1, '?2', \"a?3\" FROM t WHERE x = $12 AND y = ?"
        );
    }
}
