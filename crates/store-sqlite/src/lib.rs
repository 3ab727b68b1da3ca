//! Lantern's embedded storage: the [`Store`] trait on SQLite.
//!
//! One file in the data folder, in WAL mode so readers never wait for the
//! writer. Writes go through a single connection (SQLite allows one writer
//! at a time anyway) inside `BEGIN IMMEDIATE` transactions; reads take a
//! connection from a small pool. `synchronous = FULL`: an acknowledged
//! change survives a power cut.

mod ledger;
mod people;
mod schema;
mod users;
mod util;

use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};

use lantern_store::{AuditEvent, AuditFilter, NewAuditEvent, Page, Stats, StoreResult};
use lantern_vault::Keyring;
use rusqlite::{Connection, OpenFlags, Transaction, TransactionBehavior};

use util::{db, fmt_ts, parse_ts};

/// The SQLite store.
pub struct SqliteStore {
    path: PathBuf,
    writer: Mutex<Connection>,
    readers: Mutex<Vec<Connection>>,
    keys: Arc<Keyring>,
}

impl std::fmt::Debug for SqliteStore {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SqliteStore").field("path", &self.path).finish()
    }
}

/// Readers kept open between requests: enough for a busy server's blocking
/// pool, so requests do not pay for opening connections.
const MAX_IDLE_READERS: usize = 32;

impl SqliteStore {
    /// Opens (creating if needed) the database at `path` and brings its
    /// schema up to date. `keys` seal the protected fields.
    pub fn open(path: &Path, keys: Arc<Keyring>) -> StoreResult<Self> {
        let mut writer = connect(path, true)?;
        schema::migrate(&mut writer)?;
        let store = SqliteStore {
            path: path.to_path_buf(),
            writer: Mutex::new(writer),
            readers: Mutex::new(Vec::new()),
            keys,
        };
        store.backfill_nodes()?;
        Ok(store)
    }

    /// The database file.
    pub fn path(&self) -> &Path {
        &self.path
    }

    /// Runs `f` in one write transaction: all of it is committed, or none.
    pub(crate) fn write<T>(&self, f: impl FnOnce(&Transaction<'_>) -> StoreResult<T>) -> StoreResult<T> {
        let mut conn = self.writer.lock().unwrap_or_else(|e| e.into_inner());
        let tx = conn
            .transaction_with_behavior(TransactionBehavior::Immediate)
            .map_err(db)?;
        let value = f(&tx)?;
        tx.commit().map_err(db)?;
        Ok(value)
    }

    /// Runs `f` on a pooled read connection, inside one read transaction so
    /// it sees a single snapshot.
    pub(crate) fn read<T>(&self, f: impl FnOnce(&Transaction<'_>) -> StoreResult<T>) -> StoreResult<T> {
        let pooled = self.readers.lock().unwrap_or_else(|e| e.into_inner()).pop();
        let mut conn = match pooled {
            Some(c) => c,
            None => connect(&self.path, false)?,
        };
        let result = {
            let tx = conn.transaction().map_err(db)?;
            let value = f(&tx);
            tx.finish().map_err(db)?;
            value
        };
        let mut pool = self.readers.lock().unwrap_or_else(|e| e.into_inner());
        if pool.len() < MAX_IDLE_READERS {
            pool.push(conn);
        }
        result
    }

    pub(crate) fn keys(&self) -> &Keyring {
        &self.keys
    }
}

fn connect(path: &Path, create: bool) -> StoreResult<Connection> {
    let mut flags = OpenFlags::SQLITE_OPEN_READ_WRITE | OpenFlags::SQLITE_OPEN_NO_MUTEX | OpenFlags::SQLITE_OPEN_URI;
    if create {
        flags |= OpenFlags::SQLITE_OPEN_CREATE;
    }
    let conn = Connection::open_with_flags(path, flags).map_err(db)?;
    conn.busy_timeout(std::time::Duration::from_secs(10)).map_err(db)?;
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

/// The commitments an audit event's log entry carries.
pub(crate) fn audit_commitments(
    fields: &[(&str, Option<&str>)],
    salts: &mut dyn FnMut(&str) -> StoreResult<[u8; 32]>,
) -> StoreResult<lantern_ledger::entry::Commitments> {
    let mut c = lantern_ledger::entry::Commitments::new();
    for (name, value) in fields {
        c.add(name, value, salts(name)?);
    }
    Ok(c)
}

/// The fields of an audit event as committed to in the log.
pub(crate) fn audit_fields(e: &NewAuditEvent, at: &str) -> Vec<(&'static str, Option<String>)> {
    vec![
        ("at", Some(at.to_string())),
        ("actor_id", e.ctx.actor_id.map(|i| i.to_string())),
        ("actor_name", Some(e.ctx.actor_name.clone())),
        ("action", Some(e.action.code().to_string())),
        ("record_kind", Some(e.record_kind.clone())),
        ("record_id", e.record_id.clone()),
        ("request_id", Some(e.ctx.request_id.clone())),
        ("address", e.ctx.address.clone()),
        ("detail", Some(e.detail.clone())),
    ]
}

/// Appends an audit event, and its log entry, inside the caller's transaction.
pub(crate) fn insert_audit(tx: &Transaction<'_>, e: &NewAuditEvent) -> StoreResult<()> {
    tx.execute(
        "INSERT INTO audit_events (at, actor_id, actor_name, action, record_kind, record_id, request_id, address, detail)
         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9)",
        rusqlite::params![
            fmt_ts(e.ctx.at),
            e.ctx.actor_id.map(|i| i.to_string()),
            e.ctx.actor_name,
            e.action.code(),
            e.record_kind,
            e.record_id,
            e.ctx.request_id,
            e.ctx.address,
            e.detail,
        ],
    )
    .map_err(db)?;
    let seq = tx.last_insert_rowid();
    let at = fmt_ts(e.ctx.at);
    let fields = audit_fields(e, &at);
    let borrowed: Vec<(&str, Option<&str>)> = fields.iter().map(|(k, v)| (*k, v.as_deref())).collect();
    let commitments = audit_commitments(&borrowed, &mut |_| ledger::salt())?;
    ledger::append(
        tx,
        ledger::EntryHead {
            kind: "audit",
            record_kind: "audit",
            record_id: &seq.to_string(),
            version: None,
            at: e.ctx.at,
        },
        commitments,
    )?;
    Ok(())
}

impl SqliteStore {
    fn audit_page(&self, filter: &AuditFilter) -> StoreResult<Page<AuditEvent>> {
        let mut clauses = Vec::new();
        let mut args: Vec<String> = Vec::new();
        if let Some(a) = &filter.actor {
            args.push(a.clone());
            clauses.push(format!("actor_name = ?{}", args.len()));
        }
        if let Some(a) = &filter.action {
            args.push(a.clone());
            clauses.push(format!("action = ?{}", args.len()));
        }
        if let Some(r) = &filter.record_id {
            args.push(r.clone());
            clauses.push(format!("record_id = ?{}", args.len()));
        }
        if let Some(t) = filter.from {
            args.push(fmt_ts(t));
            clauses.push(format!("at >= ?{}", args.len()));
        }
        if let Some(t) = filter.until {
            args.push(fmt_ts(t));
            clauses.push(format!("at < ?{}", args.len()));
        }
        if let Some(seq) = filter.max_seq {
            args.push(seq.to_string());
            clauses.push(format!("seq <= CAST(?{} AS INTEGER)", args.len()));
        }
        let where_sql = if clauses.is_empty() {
            String::new()
        } else {
            format!("WHERE {}", clauses.join(" AND "))
        };
        let page = filter.page;
        self.read(|tx| {
            let total: i64 = tx
                .query_row(
                    &format!("SELECT COUNT(*) FROM audit_events {where_sql}"),
                    rusqlite::params_from_iter(args.iter()),
                    |r| r.get(0),
                )
                .map_err(db)?;
            let sql = format!(
                "SELECT seq, at, actor_id, actor_name, action, record_kind, record_id, request_id, address, detail
                 FROM audit_events {where_sql} ORDER BY seq DESC LIMIT {} OFFSET {}",
                page.size,
                page.offset()
            );
            let mut stmt = tx.prepare(&sql).map_err(db)?;
            let rows = stmt
                .query_map(rusqlite::params_from_iter(args.iter()), |r| {
                    Ok((
                        r.get::<_, i64>(0)?,
                        r.get::<_, String>(1)?,
                        r.get::<_, Option<String>>(2)?,
                        r.get::<_, String>(3)?,
                        r.get::<_, String>(4)?,
                        r.get::<_, String>(5)?,
                        r.get::<_, Option<String>>(6)?,
                        r.get::<_, String>(7)?,
                        r.get::<_, Option<String>>(8)?,
                        r.get::<_, String>(9)?,
                    ))
                })
                .map_err(db)?;
            let mut items = Vec::new();
            for row in rows {
                let (seq, at, actor_id, actor_name, action, record_kind, record_id, request_id, address, detail) =
                    row.map_err(db)?;
                items.push(AuditEvent {
                    seq,
                    at: parse_ts(&at)?,
                    actor_id: actor_id
                        .map(|s| util::parse_id(&s))
                        .transpose()?
                        .map(lantern_domain::user::UserId),
                    actor_name,
                    action,
                    record_kind,
                    record_id,
                    request_id,
                    address,
                    detail,
                });
            }
            Ok(Page {
                items,
                page: page.page,
                size: page.size,
                total: total as u64,
                total_is_lower_bound: false,
            })
        })
    }

    fn stats_now(&self) -> StoreResult<Stats> {
        self.read(|tx| {
            let count = |sql: &str| -> StoreResult<u64> {
                tx.query_row(sql, [], |r| r.get::<_, i64>(0))
                    .map(|n| n as u64)
                    .map_err(db)
            };
            let people = count("SELECT COUNT(*) FROM people WHERE deleted_at IS NULL")?;
            let households = count("SELECT COUNT(*) FROM households")?;
            let mut by_status = Vec::new();
            let mut stmt = tx
                .prepare("SELECT status, COUNT(*) FROM people WHERE deleted_at IS NULL GROUP BY status ORDER BY 2 DESC")
                .map_err(db)?;
            for row in stmt
                .query_map([], |r| Ok((r.get::<_, String>(0)?, r.get::<_, i64>(1)?)))
                .map_err(db)?
            {
                let (s, n) = row.map_err(db)?;
                by_status.push((s, n as u64));
            }
            let mut by_site = Vec::new();
            let mut stmt = tx
                .prepare(
                    "SELECT s.name, COUNT(*) FROM people p LEFT JOIN sites s ON s.id = p.site_id
                     WHERE p.deleted_at IS NULL GROUP BY s.name ORDER BY 2 DESC",
                )
                .map_err(db)?;
            for row in stmt
                .query_map([], |r| Ok((r.get::<_, Option<String>>(0)?, r.get::<_, i64>(1)?)))
                .map_err(db)?
            {
                let (s, n) = row.map_err(db)?;
                by_site.push((s, n as u64));
            }
            Ok(Stats {
                people,
                households,
                by_status,
                by_site,
            })
        })
    }

    fn record(&self, event: &NewAuditEvent) -> StoreResult<()> {
        self.write(|tx| insert_audit(tx, event))
    }
}

impl lantern_store::Store for SqliteStore {
    fn user_count(&self) -> StoreResult<u64> {
        self.count_users()
    }
    fn create_setup_token(&self, token_hash: &str, expires_at: time::OffsetDateTime) -> StoreResult<()> {
        self.add_setup_token(token_hash, expires_at)
    }
    fn complete_setup(
        &self,
        token_hash: &str,
        user: lantern_store::NewUser,
        ctx: &lantern_store::AuditContext,
    ) -> StoreResult<lantern_store::User> {
        self.setup(token_hash, user, ctx)
    }
    fn create_user(
        &self,
        user: lantern_store::NewUser,
        ctx: &lantern_store::AuditContext,
    ) -> StoreResult<lantern_store::User> {
        self.add_user(user, ctx)
    }
    fn user_credentials(&self, username: &str) -> StoreResult<Option<lantern_store::UserCredentials>> {
        self.credentials(username)
    }
    fn user(&self, id: lantern_domain::user::UserId) -> StoreResult<Option<lantern_store::User>> {
        self.get_user(id)
    }
    fn users(&self) -> StoreResult<Vec<lantern_store::User>> {
        self.all_users()
    }
    fn update_user(
        &self,
        id: lantern_domain::user::UserId,
        change: lantern_store::UserChange,
        ctx: &lantern_store::AuditContext,
    ) -> StoreResult<lantern_store::User> {
        self.change_user(id, change, ctx)
    }
    fn create_session(&self, session: lantern_store::NewSession, ctx: &lantern_store::AuditContext) -> StoreResult<()> {
        self.add_session(session, ctx)
    }
    fn session(&self, id_hash: &str) -> StoreResult<Option<(lantern_store::SessionRecord, lantern_store::User)>> {
        self.get_session(id_hash)
    }
    fn touch_session(&self, id_hash: &str, at: time::OffsetDateTime) -> StoreResult<()> {
        self.touch(id_hash, at)
    }
    fn delete_session(&self, id_hash: &str, ctx: Option<&lantern_store::AuditContext>) -> StoreResult<()> {
        self.end_session(id_hash, ctx)
    }
    fn create_api_token(
        &self,
        token: lantern_store::NewApiToken,
        ctx: &lantern_store::AuditContext,
    ) -> StoreResult<lantern_store::ApiToken> {
        self.add_api_token(token, ctx)
    }
    fn api_tokens(&self, user: lantern_domain::user::UserId) -> StoreResult<Vec<lantern_store::ApiToken>> {
        self.list_api_tokens(user)
    }
    fn revoke_api_token(
        &self,
        user: lantern_domain::user::UserId,
        token: uuid::Uuid,
        ctx: &lantern_store::AuditContext,
    ) -> StoreResult<()> {
        self.revoke_token(user, token, ctx)
    }
    fn user_by_api_token(
        &self,
        token_hash: &str,
        at: time::OffsetDateTime,
    ) -> StoreResult<Option<lantern_store::User>> {
        self.token_user(token_hash, at)
    }
    fn sites(&self) -> StoreResult<Vec<lantern_store::Site>> {
        self.all_sites()
    }
    fn create_site(&self, name: &str, ctx: &lantern_store::AuditContext) -> StoreResult<lantern_store::Site> {
        self.add_site(name, ctx)
    }
    fn create_household(
        &self,
        label: &str,
        site: Option<lantern_domain::person::SiteId>,
        ctx: &lantern_store::AuditContext,
    ) -> StoreResult<lantern_store::Household> {
        self.add_household(label, site, ctx)
    }
    fn households(&self, page: lantern_store::PageRequest) -> StoreResult<Page<lantern_store::Household>> {
        self.household_page(page)
    }
    fn household(
        &self,
        id: lantern_domain::person::HouseholdId,
    ) -> StoreResult<Option<(lantern_store::Household, Vec<lantern_store::PersonSummary>)>> {
        self.household_with_members(id)
    }
    fn create_person(
        &self,
        draft: &lantern_domain::person::PersonDraft,
        ctx: &lantern_store::AuditContext,
    ) -> StoreResult<lantern_store::Person> {
        self.new_person(draft, ctx)
    }
    fn import_people(
        &self,
        drafts: &[lantern_domain::person::PersonDraft],
        ctx: &lantern_store::AuditContext,
    ) -> StoreResult<Vec<lantern_domain::person::PersonId>> {
        self.import(drafts, ctx)
    }
    fn update_person(
        &self,
        id: lantern_domain::person::PersonId,
        expected_version: i64,
        draft: &lantern_domain::person::PersonDraft,
        ctx: &lantern_store::AuditContext,
    ) -> StoreResult<lantern_store::Person> {
        self.change_person(id, expected_version, draft, ctx)
    }
    fn delete_person(
        &self,
        id: lantern_domain::person::PersonId,
        expected_version: i64,
        ctx: &lantern_store::AuditContext,
    ) -> StoreResult<()> {
        self.remove_person(id, expected_version, ctx)
    }
    fn person(&self, id: lantern_domain::person::PersonId) -> StoreResult<Option<lantern_store::Person>> {
        self.get_person(id)
    }
    fn read_protected(
        &self,
        id: lantern_domain::person::PersonId,
        ctx: &lantern_store::AuditContext,
    ) -> StoreResult<lantern_domain::person::ProtectedFields> {
        self.protected_of(id, ctx)
    }
    fn set_photo(
        &self,
        id: lantern_domain::person::PersonId,
        photo: &lantern_domain::person::Photo,
        ctx: &lantern_store::AuditContext,
    ) -> StoreResult<()> {
        self.store_photo(id, photo, ctx)
    }
    fn photo(&self, id: lantern_domain::person::PersonId) -> StoreResult<Option<lantern_domain::person::Photo>> {
        self.load_photo(id)
    }
    fn person_names(&self) -> StoreResult<Vec<(lantern_domain::person::PersonId, Vec<String>)>> {
        self.all_names()
    }
    fn person_summaries(
        &self,
        ids: &[lantern_domain::person::PersonId],
    ) -> StoreResult<Vec<lantern_store::PersonSummary>> {
        self.summaries(ids)
    }
    fn search_people(&self, query: &lantern_store::PersonQuery) -> StoreResult<Page<lantern_store::PersonSummary>> {
        self.search(query)
    }
    fn person_history(&self, id: lantern_domain::person::PersonId) -> StoreResult<Vec<lantern_store::PersonVersion>> {
        self.history(id)
    }
    fn add_link(&self, link: lantern_domain::family::FamilyLink, ctx: &lantern_store::AuditContext) -> StoreResult<()> {
        self.link(link, ctx)
    }
    fn remove_link(
        &self,
        link: lantern_domain::family::FamilyLink,
        ctx: &lantern_store::AuditContext,
    ) -> StoreResult<()> {
        self.unlink(link, ctx)
    }
    fn ledger_size(&self) -> StoreResult<u64> {
        self.ledger_len()
    }
    fn ledger_entries(&self, start: u64, end: u64) -> StoreResult<Vec<lantern_store::LedgerEntry>> {
        self.ledger_range(start, end)
    }
    fn ledger_leaf_hashes(&self, end: u64) -> StoreResult<Vec<lantern_ledger::Hash>> {
        SqliteStore::ledger_leaf_hashes(self, end)
    }
    fn ledger_nodes(&self) -> StoreResult<Vec<(u32, u64, lantern_ledger::Hash)>> {
        self.all_nodes()
    }
    fn ledger_root(&self, size: u64) -> StoreResult<lantern_ledger::Hash> {
        self.with_nodes(|n| lantern_ledger::tree::root_of(n, size))
    }
    fn ledger_inclusion_proof(&self, index: u64, size: u64) -> StoreResult<Vec<lantern_ledger::Hash>> {
        self.with_nodes(|n| lantern_ledger::tree::inclusion_proof_of(n, index, size))
    }
    fn ledger_consistency_proof(&self, size1: u64, size2: u64) -> StoreResult<Vec<lantern_ledger::Hash>> {
        self.with_nodes(|n| lantern_ledger::tree::consistency_proof_of(n, size1, size2))
    }
    fn ledger_salts(&self, seq: u64) -> StoreResult<Vec<(String, [u8; 32])>> {
        self.salts_of(seq)
    }
    fn add_checkpoint(&self, checkpoint: &lantern_store::StoredCheckpoint) -> StoreResult<()> {
        self.save_checkpoint(checkpoint)
    }
    fn checkpoints(&self) -> StoreResult<Vec<lantern_store::StoredCheckpoint>> {
        self.load_checkpoints(false)
    }
    fn latest_checkpoint(&self) -> StoreResult<Option<lantern_store::StoredCheckpoint>> {
        Ok(self.load_checkpoints(true)?.pop())
    }
    fn check_records(&self) -> StoreResult<Vec<lantern_store::Discrepancy>> {
        self.compare_records()
    }
    fn record_audit(&self, event: &NewAuditEvent) -> StoreResult<()> {
        self.record(event)
    }
    fn audit_events(&self, filter: &AuditFilter) -> StoreResult<Page<AuditEvent>> {
        self.audit_page(filter)
    }
    fn stats(&self) -> StoreResult<Stats> {
        self.stats_now()
    }
}
