//! The ledger's storage: entries appended inside the caller's transaction,
//! so no change is acknowledged without its entry; checkpoints; reads for
//! proofs and audits.

use std::collections::HashMap;

use lantern_ledger::entry::{Commitments, Entry, ENTRY_VERSION};
use lantern_ledger::tree::NodeStore;
use lantern_ledger::{leaf_hash, Hash};
use lantern_store::{Discrepancy, LedgerEntry, RecordHead, StoreError, StoreResult, StoredCheckpoint};
use time::OffsetDateTime;

use crate::evidence::CommittedFields;
use crate::sql::{Backend, Conn, ConnExt, Value};
use crate::util::{fmt_ts, parse_ts};
use crate::{params, SqlStore};

/// A person row as stored: core JSON, sealed protected fields, version, deleted.
type PersonRow = (String, Option<Vec<u8>>, i64, bool);
/// An audit row: its sequence number and its fields as committed to.
type AuditRow = (i64, Vec<(&'static str, Option<String>)>);

/// The salt an entry stored for a field, or an error naming the field.
fn salt_of(salts: &HashMap<String, [u8; 32]>) -> impl FnMut(&str) -> StoreResult<[u8; 32]> + '_ {
    |f| {
        salts
            .get(f)
            .copied()
            .ok_or_else(|| StoreError::backend(std::io::Error::other(format!("no salt for {f}"))))
    }
}

/// The fields whose commitment in `entry` differs from `now` (either side
/// may lack a field), in name order.
fn differing(entry: &Entry, now: Commitments) -> Vec<String> {
    let (now, _) = now.finish();
    entry
        .fields
        .keys()
        .chain(now.keys())
        .collect::<std::collections::BTreeSet<_>>()
        .into_iter()
        .filter(|name| entry.fields.get(*name) != now.get(*name))
        .cloned()
        .collect()
}

/// A fresh random salt.
pub(crate) fn salt() -> StoreResult<[u8; 32]> {
    let mut s = [0u8; 32];
    lantern_vault::random_bytes(&mut s).map_err(StoreError::backend)?;
    Ok(s)
}

/// What an entry is about.
pub(crate) struct EntryHead<'a> {
    pub kind: &'a str,
    pub record_kind: &'a str,
    pub record_id: &'a str,
    pub version: Option<i64>,
    pub at: OffsetDateTime,
}

/// Appends an entry with its commitments in the caller's transaction and
/// returns its index.
pub(crate) fn append(tx: &dyn Conn, head: EntryHead<'_>, commitments: Commitments) -> StoreResult<u64> {
    let (fields, salts) = commitments.finish();
    let at = crate::util::rfc3339(head.at)?;
    let entry = Entry {
        v: ENTRY_VERSION,
        kind: head.kind.to_string(),
        at,
        record_kind: head.record_kind.to_string(),
        record_id: head.record_id.to_string(),
        version: head.version,
        fields,
    };
    let bytes = entry.canonical();
    // Writes run one at a time (see `Backend::write`), so the next index
    // is the previous one plus one; found by the insert itself (one round
    // trip to a database server, made while the write lock is held).
    let leaf = leaf_hash(&bytes);
    let seq: i64 = tx.query_value(
        "INSERT INTO ledger_entries (seq, entry, leaf_hash)
         SELECT COALESCE(MAX(seq) + 1, 0), ?1, ?2 FROM ledger_entries RETURNING seq",
        params![bytes, leaf.to_vec()],
    )?;
    store_nodes(tx, seq as u64, leaf)?;
    let salts: Vec<Vec<Value>> = salts
        .into_iter()
        .map(|(field, salt)| vec![seq.into(), field.into(), salt.to_vec().into()])
        .collect();
    tx.insert_rows("ledger_salts", "seq, field, salt", &salts)?;
    tx.execute(
        "INSERT INTO ledger_heads (record_kind, record_id, seq) VALUES (?1, ?2, ?3)
         ON CONFLICT (record_kind, record_id) DO UPDATE SET seq = ?3",
        params![head.record_kind, head.record_id, seq],
    )?;
    Ok(seq as u64)
}

/// Appends the entry of a record's change, committing to each field with a
/// fresh salt, inside the caller's transaction.
pub(crate) fn append_record(tx: &dyn Conn, head: EntryHead<'_>, fields: &[(&str, Option<String>)]) -> StoreResult<u64> {
    let mut c = Commitments::new();
    for (name, value) in fields {
        c.add(name, value, salt()?);
    }
    append(tx, head, c)
}

/// Appends the entry of a record's change committing to each field's JSON
/// value (lists and objects as such, not as strings), with fresh salts.
pub(crate) fn append_values(
    tx: &dyn Conn,
    head: EntryHead<'_>,
    fields: &[(&str, serde_json::Value)],
) -> StoreResult<u64> {
    let mut c = Commitments::new();
    for (name, value) in fields {
        c.add(name, value, salt()?);
    }
    append(tx, head, c)
}

/// Stores the perfect-subtree hashes that leaf `index` completes.
pub(crate) fn store_nodes(tx: &dyn Conn, index: u64, leaf: Hash) -> StoreResult<()> {
    let nodes = {
        let reader = TxNodes(tx);
        lantern_ledger::tree::nodes_completed_by(index, leaf, &|level, i| reader.node(level, i))
            .map_err(StoreError::backend)?
    };
    let rows: Vec<Vec<Value>> = nodes
        .into_iter()
        .map(|(level, i, hash)| vec![level.into(), (i as i64).into(), hash.to_vec().into()])
        .collect();
    tx.insert_rows("ledger_nodes", "level, idx, hash", &rows)?;
    Ok(())
}

/// Stored nodes read through a transaction.
pub(crate) struct TxNodes<'a>(pub &'a dyn Conn);

impl NodeStore for TxNodes<'_> {
    fn node(&self, level: u32, index: u64) -> Result<Hash, lantern_ledger::ProofError> {
        let missing = || lantern_ledger::ProofError::IndexOutOfRange { index, size: index };
        let bytes: Vec<u8> = self
            .0
            .query_value(
                "SELECT hash FROM ledger_nodes WHERE level = ?1 AND idx = ?2",
                params![level, index as i64],
            )
            .map_err(|_| missing())?;
        bytes.try_into().map_err(|_| missing())
    }
}

/// Records checked per chunk by the ledger audit.
const AUDIT_CHUNK: usize = 1_000;

/// Entries read for the ledger audit, by index, with their salts (every
/// entry read has a set, empty when it committed to no field).
#[derive(Default)]
struct LatestEntries {
    entries: HashMap<u64, Vec<u8>>,
    salts: HashMap<u64, HashMap<String, [u8; 32]>>,
}

impl LatestEntries {
    /// The entry at `seq` and its salts, or what is wrong with it, in words.
    fn entry(&self, seq: u64) -> Result<(Entry, &HashMap<String, [u8; 32]>), String> {
        let (bytes, salts) = self
            .entries
            .get(&seq)
            .zip(self.salts.get(&seq))
            .ok_or_else(|| format!("its latest log entry {seq} is missing"))?;
        let entry = Entry::parse(bytes).ok_or_else(|| format!("its latest log entry {seq} is not canonical"))?;
        Ok((entry, salts))
    }
}

/// Compares one row's fields with the commitments of its latest entry.
fn check_row(
    kind: &str,
    id: &str,
    seq: Option<u64>,
    latest: &LatestEntries,
    fields: &CommittedFields,
    out: &mut Vec<Discrepancy>,
) {
    let mut report = |what: String| {
        out.push(Discrepancy {
            record_kind: kind.to_string(),
            record_id: id.to_string(),
            what,
        })
    };
    let Some(seq) = seq else {
        report("no log entry for this record".into());
        return;
    };
    let (entry, salts) = match latest.entry(seq) {
        Ok(found) => found,
        Err(e) => return report(e),
    };
    let fields = match fields {
        Ok(f) => f,
        Err(e) => return report(format!("{e} (entry {seq})")),
    };
    let borrowed: Vec<(&str, Option<&str>)> = fields.iter().map(|(k, v)| (*k, v.as_deref())).collect();
    match crate::audit_commitments(&borrowed, &mut salt_of(salts)) {
        Ok(c) => {
            for name in differing(&entry, c) {
                report(format!("field {name} differs from log entry {seq}"));
            }
        }
        Err(e) => report(format!("{e} (entry {seq})")),
    }
}

fn hash32(bytes: Vec<u8>) -> StoreResult<Hash> {
    bytes
        .try_into()
        .map_err(|_| StoreError::backend(std::io::Error::other("stored hash is not 32 bytes")))
}

impl<B: Backend> SqlStore<B> {
    /// Fills the node table for entries appended before it existed.
    pub(crate) fn backfill_nodes(&self) -> StoreResult<()> {
        self.write(|tx| {
            let nodes: i64 = tx.query_value("SELECT COUNT(*) FROM ledger_nodes WHERE level = 0", &[])?;
            let rows = tx.query(
                "SELECT seq, leaf_hash FROM ledger_entries WHERE seq >= ?1 ORDER BY seq",
                params![nodes],
            )?;
            for r in rows {
                store_nodes(tx, r.get::<u64>(0)?, hash32(r.get(1)?)?)?;
            }
            Ok(())
        })
    }

    /// A computation over the stored nodes in one read snapshot.
    pub(crate) fn with_nodes<T>(
        &self,
        f: impl FnOnce(&dyn NodeStore) -> Result<T, lantern_ledger::ProofError>,
    ) -> StoreResult<T> {
        self.read(|tx| f(&TxNodes(tx)).map_err(StoreError::backend))
    }

    /// A page of stored nodes in key order, after `after` (keyset paging:
    /// each page one seek in the primary key).
    pub(crate) fn nodes_after(&self, after: Option<(u32, u64)>, limit: usize) -> StoreResult<Vec<(u32, u64, Hash)>> {
        let (level, idx) = after.map_or((-1, -1), |(l, i)| (i64::from(l), i as i64));
        self.read(|tx| {
            let mut nodes = Vec::with_capacity(limit.min(100_000));
            tx.query_each(
                "SELECT level, idx, hash FROM ledger_nodes
                 WHERE level > ?1 OR (level = ?1 AND idx > ?2) ORDER BY level, idx LIMIT ?3",
                params![level, idx, limit as i64],
                &mut |r| {
                    nodes.push((r.get(0)?, r.get(1)?, hash32(r.get(2)?)?));
                    Ok(())
                },
            )?;
            Ok(nodes)
        })
    }

    pub(crate) fn ledger_len(&self) -> StoreResult<u64> {
        self.read(|tx| tx.query_value("SELECT COALESCE(MAX(seq) + 1, 0) FROM ledger_entries", &[]))
    }

    pub(crate) fn ledger_range(&self, start: u64, end: u64) -> StoreResult<Vec<LedgerEntry>> {
        self.read(|tx| {
            tx.query(
                "SELECT seq, entry, leaf_hash FROM ledger_entries WHERE seq >= ?1 AND seq < ?2 ORDER BY seq",
                params![start as i64, end as i64],
            )?
            .into_iter()
            .map(|r| {
                Ok(LedgerEntry {
                    seq: r.get(0)?,
                    entry: r.get(1)?,
                    leaf_hash: hash32(r.get(2)?)?,
                })
            })
            .collect()
        })
    }

    pub(crate) fn leaf_hashes(&self, end: u64) -> StoreResult<Vec<Hash>> {
        self.read(|tx| {
            tx.query(
                "SELECT leaf_hash FROM ledger_entries WHERE seq < ?1 ORDER BY seq",
                params![end as i64],
            )?
            .into_iter()
            .map(|r| hash32(r.get(0)?))
            .collect()
        })
    }

    pub(crate) fn salts_of(&self, seq: u64) -> StoreResult<Vec<(String, [u8; 32])>> {
        self.read(|tx| {
            tx.query(
                "SELECT field, salt FROM ledger_salts WHERE seq = ?1 ORDER BY field",
                params![seq as i64],
            )?
            .into_iter()
            .map(|r| Ok((r.get(0)?, hash32(r.get(1)?)?)))
            .collect()
        })
    }

    pub(crate) fn heads(&self, record_kind: &str) -> StoreResult<Vec<RecordHead>> {
        self.read(|tx| {
            tx.query(
                "SELECT record_id, seq FROM ledger_heads WHERE record_kind = ?1 ORDER BY record_id",
                params![record_kind],
            )?
            .into_iter()
            .map(|r| {
                Ok(RecordHead {
                    record_id: r.get(0)?,
                    seq: r.get(1)?,
                })
            })
            .collect()
        })
    }

    pub(crate) fn save_checkpoint(&self, c: &StoredCheckpoint) -> StoreResult<()> {
        self.write(|tx| {
            tx.execute(
                "INSERT INTO ledger_checkpoints (size, root, note, at) VALUES (?1, ?2, ?3, ?4)
                 ON CONFLICT (size) DO NOTHING",
                params![c.size as i64, c.root.to_vec(), &c.note, fmt_ts(c.at)],
            )?;
            Ok(())
        })
    }

    /// Every checkpoint by size, or only the largest.
    pub(crate) fn load_checkpoints(&self, latest_only: bool) -> StoreResult<Vec<StoredCheckpoint>> {
        let sql = if latest_only {
            "SELECT size, root, note, at FROM ledger_checkpoints ORDER BY size DESC LIMIT 1"
        } else {
            "SELECT size, root, note, at FROM ledger_checkpoints ORDER BY size"
        };
        self.read(|tx| {
            tx.query(sql, &[])?
                .into_iter()
                .map(|r| {
                    Ok(StoredCheckpoint {
                        size: r.get(0)?,
                        root: hash32(r.get(1)?)?,
                        note: r.get(2)?,
                        at: parse_ts(&r.get::<String>(3)?)?,
                    })
                })
                .collect()
        })
    }
}

impl<B: Backend> SqlStore<B> {
    /// Recomputes the commitments of every person and audit row with the
    /// salts of its latest entry, and reports every record that differs.
    pub(crate) fn compare_records(&self) -> StoreResult<Vec<Discrepancy>> {
        let mut out = Vec::new();
        let issue = |kind: &str, id: &str, what: String| Discrepancy {
            record_kind: kind.to_string(),
            record_id: id.to_string(),
            what,
        };
        // People, a chunk at a time: each chunk's rows, then the entries and
        // salts they were last committed with, a few statements per chunk
        // rather than several per person. A person's head is taken out of
        // the map as the person is checked; the heads left have no record.
        let mut heads: HashMap<String, u64> = self
            .heads("person")?
            .into_iter()
            .map(|h| (h.record_id, h.seq))
            .collect();
        let mut after = String::new();
        loop {
            let rows: Vec<(String, PersonRow)> = self.read(|tx| {
                tx.query(
                    "SELECT id, core, protected, version, CASE WHEN deleted_at IS NULL THEN 0 ELSE 1 END
                     FROM people WHERE id > ?1 ORDER BY id LIMIT ?2",
                    params![after.as_str(), AUDIT_CHUNK as i64],
                )?
                .into_iter()
                .map(|r| Ok((r.get(0)?, (r.get(1)?, r.get(2)?, r.get(3)?, r.get(4)?))))
                .collect()
            })?;
            let Some((last, _)) = rows.last() else { break };
            after = last.clone();
            let seqs: Vec<u64> = rows.iter().filter_map(|(id, _)| heads.get(id).copied()).collect();
            let latest = self.latest_entries(&seqs)?;
            for (id, (core_json, sealed, version, deleted)) in rows {
                let Some(seq) = heads.remove(&id) else {
                    out.push(issue("person", &id, "no log entry for this record".into()));
                    continue;
                };
                let (entry, salts) = match latest.entry(seq) {
                    Ok(found) => found,
                    Err(e) => {
                        out.push(issue("person", &id, e));
                        continue;
                    }
                };
                if entry.version != Some(version) {
                    out.push(issue(
                        "person",
                        &id,
                        format!(
                            "version {version} in the database, {:?} in the log (entry {seq})",
                            entry.version
                        ),
                    ));
                }
                if deleted {
                    if entry.kind != "record.deleted" {
                        out.push(issue(
                            "person",
                            &id,
                            format!("deleted in the database, not in the log (entry {seq})"),
                        ));
                    }
                    continue;
                }
                if entry.kind == "record.deleted" {
                    out.push(issue(
                        "person",
                        &id,
                        format!("deleted in the log (entry {seq}) but present in the database"),
                    ));
                    continue;
                }
                let pid = lantern_domain::person::PersonId::parse("id", &id).map_err(StoreError::backend)?;
                let core: lantern_domain::person::PersonCore = match serde_json::from_str(&core_json) {
                    Ok(c) => c,
                    Err(e) => {
                        out.push(issue("person", &id, format!("the stored record does not parse: {e}")));
                        continue;
                    }
                };
                let protected = match self.open_protected(pid, sealed.as_deref()) {
                    Ok(p) => p,
                    Err(e) => {
                        out.push(issue("person", &id, format!("the protected fields do not open: {e}")));
                        continue;
                    }
                };
                match crate::people::person_commitments(&core, &protected, &mut salt_of(salts)) {
                    Ok(c) => {
                        for name in differing(&entry, c) {
                            out.push(issue(
                                "person",
                                &id,
                                format!("field {name} differs from log entry {seq}"),
                            ));
                        }
                    }
                    Err(e) => out.push(issue("person", &id, format!("{e} (entry {seq})"))),
                }
            }
        }
        for id in heads.keys() {
            out.push(issue("person", id, "in the log but missing from the database".into()));
        }
        // Audit events (read a chunk at a time: a national registry has
        // millions), evidence and custody events: each row against the
        // latest entry of its record. A record's head is taken out of the
        // map as its row is checked; the heads left have no row.
        let others = self.evidence_commitment_rows()?;
        for kind in ["audit", "evidence", "custody"] {
            let mut heads: HashMap<String, u64> = self.heads(kind)?.into_iter().map(|h| (h.record_id, h.seq)).collect();
            if kind == "audit" {
                let mut after = -1;
                loop {
                    let chunk = self.audit_rows(after)?;
                    let Some((last, _)) = chunk.last() else { break };
                    after = *last;
                    let rows: Vec<(String, CommittedFields)> = chunk
                        .into_iter()
                        .map(|(seq, fields)| (seq.to_string(), Ok(fields)))
                        .collect();
                    self.check_rows(kind, rows.iter().map(|(id, f)| (id, f)), &mut heads, &mut out)?;
                }
            } else {
                let rows: Vec<_> = others.iter().filter(|(k, _, _)| *k == kind).collect();
                for chunk in rows.chunks(AUDIT_CHUNK) {
                    self.check_rows(kind, chunk.iter().map(|(_, id, f)| (id, f)), &mut heads, &mut out)?;
                }
            }
            for id in heads.keys() {
                out.push(issue(kind, id, "in the log but missing from the database".into()));
            }
        }
        out.extend(self.testimony_discrepancies()?);
        Ok(out)
    }

    /// Checks a chunk of rows of one kind against their latest entries,
    /// taking each row's head out of `heads`.
    fn check_rows<'r>(
        &self,
        kind: &str,
        rows: impl Iterator<Item = (&'r String, &'r CommittedFields)> + Clone,
        heads: &mut HashMap<String, u64>,
        out: &mut Vec<Discrepancy>,
    ) -> StoreResult<()> {
        let seqs: Vec<u64> = rows.clone().filter_map(|(id, _)| heads.get(id).copied()).collect();
        let latest = self.latest_entries(&seqs)?;
        for (id, fields) in rows {
            check_row(kind, id, heads.remove(id), &latest, fields, out);
        }
        Ok(())
    }

    /// The entries at `seqs` with the salts each committed with, read a few
    /// hundred at a time.
    fn latest_entries(&self, seqs: &[u64]) -> StoreResult<LatestEntries> {
        let mut found = LatestEntries::default();
        self.read(|tx| {
            for chunk in seqs.chunks(500) {
                let list = (1..=chunk.len())
                    .map(|i| format!("?{i}"))
                    .collect::<Vec<_>>()
                    .join(", ");
                let values: Vec<Value> = chunk.iter().map(|&s| Value::Int(s as i64)).collect();
                for r in tx.query(
                    &format!("SELECT seq, entry FROM ledger_entries WHERE seq IN ({list})"),
                    &values,
                )? {
                    let seq = r.get(0)?;
                    found.entries.insert(seq, r.get(1)?);
                    // An entry without salts (none stored) has an empty set.
                    found.salts.entry(seq).or_default();
                }
                for r in tx.query(
                    &format!("SELECT seq, field, salt FROM ledger_salts WHERE seq IN ({list})"),
                    &values,
                )? {
                    found
                        .salts
                        .entry(r.get(0)?)
                        .or_default()
                        .insert(r.get(1)?, hash32(r.get(2)?)?);
                }
            }
            Ok(())
        })?;
        Ok(found)
    }

    /// Up to [`AUDIT_CHUNK`] audit rows after `after`, by sequence number.
    fn audit_rows(&self, after: i64) -> StoreResult<Vec<AuditRow>> {
        self.read(|tx| {
            const FIELDS: [&str; 9] = [
                "at",
                "actor_id",
                "actor_name",
                "action",
                "record_kind",
                "record_id",
                "request_id",
                "address",
                "detail",
            ];
            tx.query(
                "SELECT seq, at, actor_id, actor_name, action, record_kind, record_id, request_id, address, detail
                 FROM audit_events WHERE seq > ?1 ORDER BY seq LIMIT ?2",
                params![after, AUDIT_CHUNK as i64],
            )?
            .into_iter()
            .map(|r| {
                let fields = FIELDS
                    .iter()
                    .enumerate()
                    .map(|(i, name)| Ok((*name, r.get::<Option<String>>(i + 1)?)))
                    .collect::<StoreResult<Vec<_>>>()?;
                Ok((r.get(0)?, fields))
            })
            .collect()
        })
    }
}
