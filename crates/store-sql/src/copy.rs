//! Copying every record from one database to another: backups, restores and
//! moving a deployment from SQLite to PostgreSQL all use it. Both backends
//! keep the same tables, so a copy is the same statements on either side.
//!
//! The source is read in one read transaction (one consistent snapshot,
//! while the server keeps serving) and the target written in one write
//! transaction: the copy is whole or absent. Before committing, the copy
//! counts the rows of every table and recomputes the log's root on both
//! sides; any difference rolls it back.

use lantern_ledger::Hash;
use lantern_store::{StoreError, StoreResult};

use crate::ledger::TxNodes;
use crate::sql::{Backend, Conn, ConnExt, Value};

/// What is copied: every table but the live secrets (sessions and the
/// first-run setup token) and what is derived from the others (the people
/// per status and site, kept by triggers; the pairs of name words, rebuilt
/// after the copy), parents before children, each with its columns and a
/// key that orders its rows.
const TABLES: &[(&str, &str, &str)] = &[
    (
        "users",
        "id, username, display_name, role, language, password_hash, totp_secret, disabled, created_at, \
         must_change_password",
        "id",
    ),
    (
        "api_tokens",
        "id, user_id, name, token_hash, created_at, last_used_at, revoked",
        "id",
    ),
    ("sites", "id, name", "id"),
    ("households", "id, label, site_id, created_at", "id"),
    (
        "people",
        "id, version, core, protected, display_name, sort_key, status, site_id, household_id, birth_from, \
         birth_to, created_at, updated_at, deleted_at",
        "id",
    ),
    ("name_tokens", "token, person_id, sort_key", "token, person_id"),
    ("family_links", "person_id, relative_id, kind", "person_id, relative_id"),
    (
        "person_versions",
        "person_id, version, at, actor_id, actor_name, action, core, protected_changed",
        "person_id, version",
    ),
    (
        "person_photos",
        "person_id, content_type, sealed, uploaded_at",
        "person_id",
    ),
    (
        "cases",
        "id, version, person_id, household_id, step, step_at, country, created_at, updated_at",
        "id",
    ),
    (
        "case_steps",
        "case_id, seq, step, at, actor_id, actor_name, country",
        "case_id, seq",
    ),
    (
        "case_obstacles",
        "id, case_id, kind, occurred_on, by_whom, detail, recorded_at, actor_id, actor_name",
        "id",
    ),
    (
        "case_notes",
        "id, case_id, kind, about_id, confidential, sealed, author_id, author_name, at",
        "id",
    ),
    (
        "tracing_requests",
        "id, reference, secret_hash, version, kind, channel, state, requester, sought, matched_id, consent, filed_at, \
         updated_at",
        "id",
    ),
    (
        "request_steps",
        "request_id, seq, state, at, actor_id, actor_name, reason",
        "request_id, seq",
    ),
    (
        "request_candidates",
        "request_id, person_id, probability, decision, decided_at, data_key",
        "request_id, person_id",
    ),
    (
        "request_photos",
        "request_id, content_type, sealed, uploaded_at",
        "request_id",
    ),
    (
        "request_messages",
        "id, request_id, direction, sealed, written_at, written_by, delivered_at, delivered_by",
        "id",
    ),
    ("rooms", "id, site_id, name, created_at", "id"),
    ("visit_rooms", "id, site_id, name, capacity, hours, created_at", "id"),
    (
        "visits",
        "id, request_id, room_id, starts_at, ends_at, visitors, visitor_count, status, outcome_by, outcome_reason, \
         booked_by, booked_at, closed_at",
        "id",
    ),
    ("interviewer_languages", "user_id, languages", "user_id"),
    (
        "availability",
        "resource_kind, resource_id, weekday, starts, ends",
        "resource_kind, resource_id, weekday, starts",
    ),
    ("interpreters", "id, name, languages, created_at", "id"),
    (
        "interviews",
        "id, version, case_id, person_id, starts_at, ends_at, room_id, interviewer_id, interpreter_id, language, \
         status, others_present, created_at, updated_at",
        "id",
    ),
    ("vault_objects", "name, sha256, size, wrapped_key, created_at", "name"),
    (
        "evidence",
        "id, object_name, sha256, size, title, media_type, protected, derived_from, derivation, created_at, \
         created_by, created_by_name",
        "id",
    ),
    (
        "custody_events",
        "seq, evidence_id, at, kind, actor_id, actor_name, counterpart, method, sha256",
        "seq",
    ),
    ("act_types", "code, labels, created_at", "code"),
    (
        "events",
        "id, title, start_date, end_date, place, exact_place, description, created_at, created_by_name",
        "id",
    ),
    (
        "testimonies",
        "id, pseudonym, given_on, language, reliability, acts, confidential, protected, created_at, created_by, \
         created_by_name",
        "id",
    ),
    (
        "testimony_events",
        "testimony_id, event_id, position",
        "testimony_id, event_id",
    ),
    (
        "testimony_evidence",
        "testimony_id, evidence_id, position",
        "testimony_id, evidence_id",
    ),
    ("recipients", "id, name, kind, language, created_at", "id"),
    ("recipient_users", "recipient_id, user_id", "recipient_id, user_id"),
    (
        "testimony_shares",
        "seq, testimony_id, recipient_id, decision, how, form, at, by_name",
        "seq",
    ),
    (
        "dossiers",
        "id, title, recipient_id, purpose, expires, redaction, include_files, testimonies, records, files, entry_seq, \
         fields, checkpoint_size, created_at, created_by_name",
        "id",
    ),
    (
        "audit_events",
        "seq, at, actor_id, actor_name, action, record_kind, record_id, request_id, address, detail",
        "seq",
    ),
    ("ledger_entries", "seq, entry, leaf_hash", "seq"),
    ("ledger_salts", "seq, field, salt", "seq, field"),
    ("ledger_heads", "record_kind, record_id, seq", "record_kind, record_id"),
    ("ledger_checkpoints", "size, root, note, at", "size"),
    ("ledger_nodes", "level, idx, hash", "level, idx"),
];

/// Rows read from the source per query.
const CHUNK: usize = 2_000;

/// What a database holds, in figures a copy must reproduce exactly.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Census {
    /// Rows per copied table, in copy order.
    pub tables: Vec<(String, u64)>,
    /// Entries in the log.
    pub ledger_size: u64,
    /// The log's root at that size.
    pub ledger_root: Hash,
}

impl Census {
    /// The rows of one table (0 when unknown).
    pub fn rows(&self, table: &str) -> u64 {
        self.tables.iter().find(|(t, _)| t == table).map_or(0, |(_, n)| *n)
    }

    /// Each difference from `other`, in words.
    pub fn differences(&self, other: &Census) -> Vec<String> {
        let mut out = Vec::new();
        for (table, n) in &self.tables {
            let m = other.rows(table);
            if *n != m {
                out.push(format!("{table}: {n} rows, {m} in the copy"));
            }
        }
        if self.ledger_size != other.ledger_size {
            out.push(format!(
                "log: {} entries, {} in the copy",
                self.ledger_size, other.ledger_size
            ));
        } else if self.ledger_root != other.ledger_root {
            out.push("log: same size, different root".to_string());
        }
        out
    }
}

fn census_in(tx: &dyn Conn) -> StoreResult<Census> {
    let mut tables = Vec::with_capacity(TABLES.len());
    for (table, _, _) in TABLES {
        let n: u64 = tx.query_value(&format!("SELECT COUNT(*) FROM {table}"), &[])?;
        tables.push((table.to_string(), n));
    }
    let ledger_size: u64 = tx.query_value("SELECT COALESCE(MAX(seq) + 1, 0) FROM ledger_entries", &[])?;
    let ledger_root = lantern_ledger::tree::root_of(&TxNodes(tx), ledger_size).map_err(StoreError::backend)?;
    Ok(Census {
        tables,
        ledger_size,
        ledger_root,
    })
}

/// Counts what `db` holds, in one snapshot.
pub fn census<B: Backend>(db: &B) -> StoreResult<Census> {
    db.read(census_in)
}

fn refuse(what: String) -> StoreError {
    StoreError::backend(std::io::Error::other(what))
}

/// Copies every record of `src` into `dst`, which must be empty, and
/// returns what was copied. Nothing is written unless the whole copy
/// matches the source.
pub fn copy_records<S: Backend, D: Backend>(src: &S, dst: &D) -> StoreResult<Census> {
    copy_records_chunked(src, dst, CHUNK)
}

/// [`copy_records`], reading `chunk` rows per query (tests use a small
/// chunk so that every table crosses chunk boundaries).
pub fn copy_records_chunked<S: Backend, D: Backend>(src: &S, dst: &D, chunk: usize) -> StoreResult<Census> {
    let chunk = chunk.max(1);
    let census = src.read(|from| {
        dst.write(|to| {
            let before = census_in(to)?;
            if let Some((table, n)) = before.tables.iter().find(|(_, n)| *n > 0) {
                return Err(refuse(format!(
                    "the target database is not empty ({table} has {n} rows); copy only into a new database"
                )));
            }
            for (table, columns, key) in TABLES {
                copy_table(from, to, table, columns, key, chunk)?;
            }
            // Derived from the token table rather than copied, so that a
            // backup made before the table existed restores the same.
            to.execute(crate::people::REBUILD_NAME_PAIRS, &[])?;
            let source = census_in(from)?;
            let copied = census_in(to)?;
            let differences = source.differences(&copied);
            if !differences.is_empty() {
                return Err(refuse(format!("the copy differs: {}", differences.join("; "))));
            }
            Ok(source)
        })
    })?;
    // The audit that follows a copy looks entries up by the thousand: with
    // the statistics of empty tables, PostgreSQL read all of them each time.
    dst.analyze()?;
    Ok(census)
}

/// Copies one table, `chunk` rows per read. Each read starts after the
/// last key copied (keyset pagination): with `OFFSET`, every read would
/// step over all the rows before it, and a copy of a national registry's
/// tens of millions of log rows would take time quadratic in their number.
fn copy_table(from: &dyn Conn, to: &dyn Conn, table: &str, columns: &str, key: &str, chunk: usize) -> StoreResult<()> {
    let names: Vec<&str> = columns.split(',').map(str::trim).collect();
    let key_at = key
        .split(',')
        .map(str::trim)
        .map(|k| {
            names
                .iter()
                .position(|c| *c == k)
                .ok_or_else(|| refuse(format!("{table}: key column {k} is not copied")))
        })
        .collect::<StoreResult<Vec<usize>>>()?;
    let after: Vec<String> = (1..=key_at.len()).map(|i| format!("?{i}")).collect();
    let first = format!("SELECT {columns} FROM {table} ORDER BY {key} LIMIT {chunk}");
    // Row values compare column by column, as ORDER BY sorts (SQLite 3.15+,
    // PostgreSQL).
    let next = format!(
        "SELECT {columns} FROM {table} WHERE ({key}) > ({}) ORDER BY {key} LIMIT {chunk}",
        after.join(", ")
    );
    let mut last: Option<Vec<Value>> = None;
    loop {
        let rows = match &last {
            None => from.query(&first, &[])?,
            Some(key) => from.query(&next, key)?,
        };
        let full = rows.len() == chunk;
        last = rows
            .last()
            .map(|row| key_at.iter().map(|&i| row.0[i].clone()).collect());
        let rows: Vec<Vec<Value>> = rows.into_iter().map(|r| r.0).collect();
        to.insert_rows(table, columns, &rows)?;
        if !full {
            return Ok(());
        }
    }
}
