//! Evidence: the catalogue of stored objects, evidence records, and the
//! chain of custody, each change with its log entry and audit event in the
//! same transaction.
//!
//! The vault writes an object before the store records it; the record is
//! what makes the object part of the evidence. If the same content is
//! already catalogued, the new record names the existing object and the
//! caller deletes the redundant one (`AddedEvidence::redundant_object`).

use lantern_domain::audit::AuditAction;
use lantern_domain::evidence::{CustodyKind, Derivation, EvidenceId};
use lantern_domain::{FieldError, Reason};
use lantern_store::{
    AddedEvidence, AuditContext, CustodyEvent, Evidence, EvidenceDetails, EvidenceObject, NewEvidence, Page,
    PageRequest, StoreError, StoreResult, StoredObject,
};

use crate::sql::{Backend, Conn, ConnExt, Row};
use crate::util::{fmt_ts, json, parse_id, parse_ts};
use crate::{insert_audit, params, SqlStore};

/// Keyring purpose of an evidence record's protected details.
pub(crate) const DETAILS_PURPOSE: &str = "evidence-details";

pub(crate) fn place(id: EvidenceId) -> String {
    format!("evidence/{id}")
}

const EVIDENCE_COLUMNS: &str =
    "id, title, media_type, sha256, size, created_at, created_by_name, derived_from, derivation";

/// An evidence row without its links (copies, same content).
fn evidence_row(r: &Row) -> StoreResult<Evidence> {
    Ok(Evidence {
        id: EvidenceId(parse_id(&r.get::<String>(0)?)?),
        title: r.get(1)?,
        media_type: r.get(2)?,
        sha256: r.get(3)?,
        size: r.get(4)?,
        created_at: parse_ts(&r.get::<String>(5)?)?,
        created_by: r.get(6)?,
        derived_from: r
            .get::<Option<String>>(7)?
            .map(|d| parse_id(&d).map(EvidenceId))
            .transpose()?,
        derivation: r
            .get::<Option<String>>(8)?
            .map(|d| Derivation::parse("derivation", &d).map_err(StoreError::backend))
            .transpose()?,
        copies: Vec::new(),
        same_content: Vec::new(),
    })
}

/// Fills in the working copies and the other records of the same content
/// of a page of records, with one query for the whole page.
fn with_links(tx: &dyn Conn, mut items: Vec<Evidence>) -> StoreResult<Vec<Evidence>> {
    if items.is_empty() {
        return Ok(items);
    }
    let mut args: Vec<crate::sql::Value> = Vec::new();
    for e in &items {
        args.push(e.id.to_string().into());
    }
    for e in &items {
        args.push(e.sha256.clone().into());
    }
    let n = items.len();
    let list = |from: usize| (from..from + n).map(|i| format!("?{i}")).collect::<Vec<_>>().join(", ");
    let rows = tx.query(
        &format!(
            "SELECT id, derived_from, sha256 FROM evidence WHERE derived_from IN ({}) OR sha256 IN ({}) ORDER BY id",
            list(1),
            list(n + 1)
        ),
        &args,
    )?;
    for r in &rows {
        let id = EvidenceId(parse_id(&r.get::<String>(0)?)?);
        let derived_from: Option<String> = r.get(1)?;
        let sha256: String = r.get(2)?;
        for e in items.iter_mut().filter(|e| e.id != id) {
            if derived_from.as_deref() == Some(e.id.to_string().as_str()) {
                e.copies.push(id);
            }
            if sha256 == e.sha256 {
                e.same_content.push(id);
            }
        }
    }
    Ok(items)
}

fn load(tx: &dyn Conn, id: EvidenceId) -> StoreResult<Option<Evidence>> {
    tx.query_opt(
        &format!("SELECT {EVIDENCE_COLUMNS} FROM evidence WHERE id = ?1"),
        params![id.to_string()],
    )?
    .map(|r| evidence_row(&r))
    .transpose()?
    .map(|e| Ok(with_links(tx, vec![e])?.remove(0)))
    .transpose()
}

/// The fields of an evidence record as committed to in the log.
pub(crate) fn evidence_fields(
    e: &Evidence,
    object: &str,
    details: &EvidenceDetails,
) -> StoreResult<Vec<(&'static str, Option<String>)>> {
    Ok(vec![
        ("object", Some(object.to_string())),
        ("sha256", Some(e.sha256.clone())),
        ("size", Some(e.size.to_string())),
        ("title", Some(e.title.clone())),
        ("media_type", Some(e.media_type.clone())),
        ("details", Some(serde_json::to_string(details).map_err(json)?)),
        ("derived_from", e.derived_from.map(|d| d.to_string())),
        ("derivation", e.derivation.map(|d| d.code().to_string())),
        ("created_at", Some(fmt_ts(e.created_at))),
        ("created_by", Some(e.created_by.clone())),
    ])
}

/// The fields of a custody event as committed to in the log.
pub(crate) fn custody_fields(c: &CustodyEvent) -> Vec<(&'static str, Option<String>)> {
    vec![
        ("evidence_id", Some(c.evidence.to_string())),
        ("at", Some(fmt_ts(c.at))),
        ("kind", Some(c.kind.code().to_string())),
        ("actor", Some(c.actor.clone())),
        ("counterpart", c.counterpart.clone()),
        ("method", c.method.clone()),
        ("sha256", Some(c.sha256.clone())),
    ]
}

/// Appends a custody event, its log entry and nothing else, inside the
/// caller's transaction.
pub(crate) fn insert_custody(
    tx: &dyn Conn,
    evidence: EvidenceId,
    kind: CustodyKind,
    counterpart: Option<String>,
    method: Option<String>,
    sha256: &str,
    ctx: &AuditContext,
) -> StoreResult<CustodyEvent> {
    let seq: u64 = tx.query_value("SELECT COALESCE(MAX(seq) + 1, 0) FROM custody_events", &[])?;
    let event = CustodyEvent {
        seq,
        evidence,
        at: ctx.at,
        kind,
        actor: ctx.actor_name.clone(),
        counterpart,
        method,
        sha256: sha256.to_string(),
    };
    tx.execute(
        "INSERT INTO custody_events (seq, evidence_id, at, kind, actor_id, actor_name, counterpart, method, sha256)
         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9)",
        params![
            seq as i64,
            evidence.to_string(),
            fmt_ts(ctx.at),
            kind.code(),
            ctx.actor_id.map(|a| a.to_string()),
            ctx.actor_name.as_str(),
            event.counterpart.clone(),
            event.method.clone(),
            sha256
        ],
    )?;
    crate::ledger::append_record(
        tx,
        crate::ledger::EntryHead {
            kind: "custody",
            record_kind: "custody",
            record_id: &seq.to_string(),
            version: None,
            at: ctx.at,
        },
        &custody_fields(&event),
    )?;
    Ok(event)
}

/// One custody event by its position in the custody log.
pub(crate) fn custody_by_seq(tx: &dyn Conn, seq: u64) -> StoreResult<CustodyEvent> {
    tx.query_opt(
        &format!("SELECT {CUSTODY_COLUMNS} FROM custody_events WHERE seq = ?1"),
        params![seq as i64],
    )?
    .map(|r| custody_row(&r))
    .transpose()?
    .ok_or(StoreError::NotFound)
}

fn custody_row(r: &Row) -> StoreResult<CustodyEvent> {
    Ok(CustodyEvent {
        seq: r.get(0)?,
        evidence: EvidenceId(parse_id(&r.get::<String>(1)?)?),
        at: parse_ts(&r.get::<String>(2)?)?,
        kind: CustodyKind::parse("kind", &r.get::<String>(3)?).map_err(StoreError::backend)?,
        actor: r.get(4)?,
        counterpart: r.get(5)?,
        method: r.get(6)?,
        sha256: r.get(7)?,
    })
}

/// A record's fields as its log entry commits to them, or why they could
/// not be read.
pub(crate) type CommittedFields = Result<Vec<(&'static str, Option<String>)>, String>;

const CUSTODY_COLUMNS: &str = "seq, evidence_id, at, kind, actor_name, counterpart, method, sha256";

fn object_row(r: &Row) -> StoreResult<StoredObject> {
    Ok(StoredObject {
        name: r.get(0)?,
        sha256: r.get(1)?,
        size: r.get(2)?,
        wrapped_key: r.get(3)?,
    })
}

/// An evidence record prepared outside its transaction (see
/// `SqlStore::seal_evidence`).
pub(crate) struct SealedEvidence {
    id: EvidenceId,
    sha256: String,
    sealed: Vec<u8>,
}

impl<B: Backend> SqlStore<B> {
    pub(crate) fn add_evidence_in(&self, new: &NewEvidence, ctx: &AuditContext) -> StoreResult<AddedEvidence> {
        let sealed = self.seal_evidence(new)?;
        self.write(|tx| self.add_evidence_tx(tx, &sealed, new, ctx))
    }

    /// What an evidence record needs before its transaction: its id, its
    /// hash checked, its details sealed.
    pub(crate) fn seal_evidence(&self, new: &NewEvidence) -> StoreResult<SealedEvidence> {
        let sha256 = lantern_domain::evidence::sha256_hex("sha256", &new.object.sha256)?;
        let id = EvidenceId::new();
        let details = serde_json::to_vec(&new.details).map_err(json)?;
        let sealed = self
            .keys()
            .seal(DETAILS_PURPOSE, &place(id), &details)
            .map_err(StoreError::backend)?;
        Ok(SealedEvidence { id, sha256, sealed })
    }

    /// Writes an evidence record inside the caller's transaction, with its
    /// log entry, its first custody event and its audit event.
    pub(crate) fn add_evidence_tx(
        &self,
        tx: &dyn Conn,
        prepared: &SealedEvidence,
        new: &NewEvidence,
        ctx: &AuditContext,
    ) -> StoreResult<AddedEvidence> {
        let SealedEvidence { id, sha256, sealed } = prepared;
        let (id, sha256) = (*id, sha256.clone());
        let existing = tx.query_opt(
            "SELECT name, sha256, size, wrapped_key FROM vault_objects WHERE sha256 = ?1",
            params![sha256.as_str()],
        )?;
        let (object, redundant) = match existing {
            Some(r) => {
                let known = object_row(&r)?;
                let redundant = (known.name != new.object.name).then(|| new.object.name.clone());
                (known.name, redundant)
            }
            None => {
                tx.execute(
                    "INSERT INTO vault_objects (name, sha256, size, wrapped_key, created_at)
                     VALUES (?1, ?2, ?3, ?4, ?5)",
                    params![
                        new.object.name.as_str(),
                        sha256.as_str(),
                        new.object.size as i64,
                        new.object.wrapped_key.clone(),
                        fmt_ts(ctx.at)
                    ],
                )?;
                (new.object.name.clone(), None)
            }
        };
        if let Some((original, _)) = new.derived_from {
            let known: bool = tx.query_value(
                "SELECT EXISTS(SELECT 1 FROM evidence WHERE id = ?1)",
                params![original.to_string()],
            )?;
            if !known {
                return Err(FieldError::new("derived_from", Reason::NotFound).into());
            }
        }
        tx.execute(
            "INSERT INTO evidence (id, object_name, sha256, size, title, media_type, protected, derived_from,
                                   derivation, created_at, created_by, created_by_name)
             VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12)",
            params![
                id.to_string(),
                object.as_str(),
                sha256.as_str(),
                new.object.size as i64,
                new.title.as_str(),
                new.media_type.as_str(),
                sealed.clone(),
                new.derived_from.map(|(d, _)| d.to_string()),
                new.derived_from.map(|(_, k)| k.code()),
                fmt_ts(ctx.at),
                ctx.actor_id.map(|a| a.to_string()),
                ctx.actor_name.as_str()
            ],
        )?;
        let evidence = load(tx, id)?.ok_or(StoreError::NotFound)?;
        crate::ledger::append_record(
            tx,
            crate::ledger::EntryHead {
                kind: "evidence.added",
                record_kind: "evidence",
                record_id: &id.to_string(),
                version: Some(1),
                at: ctx.at,
            },
            &evidence_fields(&evidence, &object, &new.details)?,
        )?;
        insert_custody(
            tx,
            id,
            CustodyKind::Received,
            new.received_from.clone(),
            new.received_how.clone(),
            &sha256,
            ctx,
        )?;
        if let Some((original, how)) = new.derived_from {
            let original_sha: String = tx.query_value(
                "SELECT sha256 FROM evidence WHERE id = ?1",
                params![original.to_string()],
            )?;
            insert_custody(
                tx,
                original,
                CustodyKind::Derived,
                Some(id.to_string()),
                Some(how.code().to_string()),
                &original_sha,
                ctx,
            )?;
        }
        insert_audit(
            tx,
            &ctx.event(AuditAction::EvidenceAdd, "evidence", Some(id.to_string()), &sha256),
        )?;
        Ok(AddedEvidence {
            evidence,
            redundant_object: redundant,
        })
    }

    /// An evidence record, its object's name and its unsealed details: what
    /// its log entry commits to.
    pub(crate) fn evidence_for_entry(
        &self,
        tx: &dyn Conn,
        id: EvidenceId,
    ) -> StoreResult<(Evidence, String, EvidenceDetails)> {
        let evidence = load(tx, id)?.ok_or(StoreError::NotFound)?;
        let r = tx
            .query_opt(
                "SELECT object_name, protected FROM evidence WHERE id = ?1",
                params![id.to_string()],
            )?
            .ok_or(StoreError::NotFound)?;
        let sealed: Vec<u8> = r.get(1)?;
        let plain = self
            .keys()
            .open(DETAILS_PURPOSE, &place(id), &sealed)
            .map_err(StoreError::backend)?;
        let details = serde_json::from_slice(&plain).map_err(json)?;
        Ok((evidence, r.get(0)?, details))
    }

    pub(crate) fn evidence_by_id(&self, id: EvidenceId) -> StoreResult<Option<Evidence>> {
        self.read(|tx| load(tx, id))
    }

    pub(crate) fn evidence_page(&self, page: PageRequest) -> StoreResult<Page<Evidence>> {
        self.read(|tx| {
            let total: u64 = tx.query_value("SELECT COUNT(*) FROM evidence", &[])?;
            let items = tx
                .query(
                    &format!(
                        "SELECT {EVIDENCE_COLUMNS} FROM evidence ORDER BY created_at DESC, id DESC
                         LIMIT ?1 OFFSET ?2"
                    ),
                    params![page.size as i64, page.offset() as i64],
                )?
                .iter()
                .map(evidence_row)
                .collect::<StoreResult<Vec<_>>>()?;
            let items = with_links(tx, items)?;
            Ok(Page {
                items,
                page: page.page,
                size: page.size,
                total,
                total_is_lower_bound: false,
            })
        })
    }

    pub(crate) fn evidence_details(&self, id: EvidenceId, ctx: &AuditContext) -> StoreResult<EvidenceDetails> {
        self.write(|tx| {
            let details = self.details_in(tx, id)?;
            insert_audit(
                tx,
                &ctx.event(AuditAction::EvidenceView, "evidence", Some(id.to_string()), ""),
            )?;
            Ok(details)
        })
    }

    pub(crate) fn evidence_unsealed(&self, page: PageRequest) -> StoreResult<Vec<(Evidence, EvidenceDetails)>> {
        let records = self.evidence_page(page)?.items;
        self.read(|tx| {
            records
                .into_iter()
                .map(|e| {
                    let details = self.details_in(tx, e.id)?;
                    Ok((e, details))
                })
                .collect()
        })
    }

    fn details_in(&self, tx: &dyn Conn, id: EvidenceId) -> StoreResult<EvidenceDetails> {
        let sealed: Vec<u8> = tx
            .query_opt("SELECT protected FROM evidence WHERE id = ?1", params![id.to_string()])?
            .ok_or(StoreError::NotFound)?
            .get(0)?;
        let plain = self
            .keys()
            .open(DETAILS_PURPOSE, &place(id), &sealed)
            .map_err(StoreError::backend)?;
        serde_json::from_slice(&plain).map_err(json)
    }

    pub(crate) fn open_evidence_in(
        &self,
        id: EvidenceId,
        kind: CustodyKind,
        counterpart: Option<String>,
        ctx: &AuditContext,
    ) -> StoreResult<EvidenceObject> {
        if !matches!(kind, CustodyKind::Accessed | CustodyKind::Exported) {
            return Err(FieldError::new("kind", Reason::UnknownChoice).into());
        }
        self.write(|tx| {
            let evidence = load(tx, id)?.ok_or(StoreError::NotFound)?;
            let object = tx
                .query_opt(
                    "SELECT o.name, o.sha256, o.size, o.wrapped_key FROM evidence e
                     JOIN vault_objects o ON o.name = e.object_name WHERE e.id = ?1",
                    params![id.to_string()],
                )?
                .map(|r| object_row(&r))
                .transpose()?
                .ok_or(StoreError::NotFound)?;
            let filename = self.details_in(tx, id)?.filename;
            insert_custody(tx, id, kind, counterpart.clone(), None, &evidence.sha256, ctx)?;
            insert_audit(
                tx,
                &ctx.event(AuditAction::EvidenceOpen, "evidence", Some(id.to_string()), kind.code()),
            )?;
            Ok(EvidenceObject {
                evidence,
                object,
                filename,
            })
        })
    }

    pub(crate) fn transfer(
        &self,
        id: EvidenceId,
        to: &str,
        method: Option<String>,
        ctx: &AuditContext,
    ) -> StoreResult<CustodyEvent> {
        let to =
            lantern_domain::evidence::short_text("to", to)?.ok_or_else(|| FieldError::new("to", Reason::Required))?;
        self.write(|tx| {
            let sha256: String = tx
                .query_opt("SELECT sha256 FROM evidence WHERE id = ?1", params![id.to_string()])?
                .ok_or(StoreError::NotFound)?
                .get(0)?;
            let event = insert_custody(
                tx,
                id,
                CustodyKind::Transferred,
                Some(to.clone()),
                method.clone(),
                &sha256,
                ctx,
            )?;
            insert_audit(
                tx,
                &ctx.event(AuditAction::EvidenceTransfer, "evidence", Some(id.to_string()), &to),
            )?;
            Ok(event)
        })
    }

    pub(crate) fn custody_of(&self, id: EvidenceId) -> StoreResult<Vec<CustodyEvent>> {
        self.read(|tx| {
            tx.query(
                &format!("SELECT {CUSTODY_COLUMNS} FROM custody_events WHERE evidence_id = ?1 ORDER BY seq"),
                params![id.to_string()],
            )?
            .iter()
            .map(custody_row)
            .collect()
        })
    }

    pub(crate) fn all_objects(&self) -> StoreResult<Vec<StoredObject>> {
        self.read(|tx| {
            tx.query(
                "SELECT name, sha256, size, wrapped_key FROM vault_objects ORDER BY name",
                &[],
            )?
            .iter()
            .map(object_row)
            .collect()
        })
    }

    /// Every evidence record and custody event with the fields its log
    /// entry commits to, for the ledger audit.
    pub(crate) fn evidence_commitment_rows(&self) -> StoreResult<Vec<(&'static str, String, CommittedFields)>> {
        let mut out = Vec::new();
        self.read(|tx| {
            let rows = tx.query(
                &format!("SELECT {EVIDENCE_COLUMNS}, object_name FROM evidence ORDER BY id"),
                &[],
            )?;
            for r in &rows {
                // The links are not committed to: the row alone.
                let e = evidence_row(r)?;
                let object: String = r.get(9)?;
                let fields = match self.details_in(tx, e.id) {
                    Ok(details) => Ok(evidence_fields(&e, &object, &details)?),
                    Err(err) => Err(format!("the protected details do not open: {err}")),
                };
                out.push(("evidence", e.id.to_string(), fields));
            }
            for r in &tx.query(
                &format!("SELECT {CUSTODY_COLUMNS} FROM custody_events ORDER BY seq"),
                &[],
            )? {
                let c = custody_row(r)?;
                out.push(("custody", c.seq.to_string(), Ok(custody_fields(&c))));
            }
            Ok(())
        })?;
        Ok(out)
    }
}
