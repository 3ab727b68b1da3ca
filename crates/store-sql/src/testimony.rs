//! Testimonies, events, sharing decisions, recipients and dossiers, each
//! change with its log entry and audit event in the same transaction.
//!
//! A testimony's log entry commits to each of its parts separately (the
//! witness, the narrative, the victims' and alleged perpetrators' names …)
//! so a dossier can withhold some and still prove the rest. The values are
//! committed as JSON (see `ledger::append_values`).

use std::collections::{BTreeMap, BTreeSet};

use lantern_domain::audit::AuditAction;
use lantern_domain::evidence::EvidenceId;
use lantern_domain::person::PersonId;
use lantern_domain::testimony::{
    may_include_person, may_share, Act, ConfidentialPart, DossierDraft, DossierId, EventDraft, EventId, Involvement,
    RecipientId, RecipientKind, Redaction, Reliability, ShareDecision, Source, TestimonyDraft, TestimonyId, Witness,
    BUILT_IN_ACT_TYPES,
};
use lantern_domain::user::UserId;
use lantern_domain::{FieldError, Reason};
use lantern_ledger::bundle::{FileRef, RecordRef, DOSSIER_ENTRY};
use lantern_ledger::entry::{hex, Entry};
use lantern_store::{
    ActType, AuditContext, Disclosure, Dossier, DossierRecord, Event, NewShareDecision, Page, PageRequest, Recipient,
    ShareRecord, StoreError, StoreResult, TestimonyFull, TestimonySummary,
};
use serde::{Deserialize, Serialize};
use serde_json::{json, Value};

use crate::sql::{Backend, Conn, ConnExt, Row};
use crate::util::{fmt_day, fmt_ts, json, parse_day, parse_id, parse_ts, rfc3339};
use crate::{insert_audit, params, SqlStore};

/// Keyring purpose of a testimony's sealed parts.
pub(crate) const TESTIMONY_PURPOSE: &str = "testimony";
/// Keyring purpose of an event's exact place.
pub(crate) const PLACE_PURPOSE: &str = "event-place";

/// Where a testimony's parts are sealed (associated data).
pub(crate) fn testimony_place(id: TestimonyId) -> String {
    format!("testimony/{id}")
}

/// Where an event's exact place is sealed.
pub(crate) fn event_place(id: EventId) -> String {
    format!("event/{id}")
}

/// The sealed parts of a testimony.
#[derive(Debug, Clone, Serialize, Deserialize)]
struct Sealed {
    witness: Witness,
    narrative: String,
    /// Per act, in the order of `acts`: victims, perpetrators, consequences.
    names: Vec<(Vec<String>, Vec<Involvement>, Option<String>)>,
    sources: Vec<Source>,
    reliability_note: Option<String>,
}

fn from_json<T: serde::de::DeserializeOwned>(s: &str) -> StoreResult<T> {
    serde_json::from_str(s).map_err(json)
}

fn to_json(v: &impl Serialize) -> StoreResult<String> {
    serde_json::to_string(v).map_err(json)
}

const SUMMARY_COLUMNS: &str =
    "id, pseudonym, given_on, language, reliability, acts, confidential, created_at, created_by_name";

fn summary_row(tx: &dyn Conn, r: &Row) -> StoreResult<TestimonySummary> {
    let id: String = r.get(0)?;
    let acts: Vec<(EventId, String)> = from_json(&r.get::<String>(5)?)?;
    let ids = |table: &str, column: &str| -> StoreResult<Vec<uuid::Uuid>> {
        tx.query(
            &format!("SELECT {column} FROM {table} WHERE testimony_id = ?1 ORDER BY position"),
            params![id.as_str()],
        )?
        .iter()
        .map(|r| parse_id(&r.get::<String>(0)?))
        .collect()
    };
    Ok(TestimonySummary {
        id: TestimonyId(parse_id(&id)?),
        pseudonym: r.get(1)?,
        given_on: parse_day(&r.get::<String>(2)?)?,
        language: r.get(3)?,
        reliability: Reliability::parse("reliability", &r.get::<String>(4)?).map_err(StoreError::backend)?,
        events: ids("testimony_events", "event_id")?.into_iter().map(EventId).collect(),
        acts,
        evidence: ids("testimony_evidence", "evidence_id")?
            .into_iter()
            .map(EvidenceId)
            .collect(),
        confidential: from_json(&r.get::<String>(6)?)?,
        created_at: parse_ts(&r.get::<String>(7)?)?,
        created_by: r.get(8)?,
    })
}

fn load_summary(tx: &dyn Conn, id: TestimonyId) -> StoreResult<Option<TestimonySummary>> {
    tx.query_opt(
        &format!("SELECT {SUMMARY_COLUMNS} FROM testimonies WHERE id = ?1"),
        params![id.to_string()],
    )?
    .map(|r| summary_row(tx, &r))
    .transpose()
}

/// Whether a person is in the registry and not deleted.
fn exists_live_person(tx: &dyn Conn, id: PersonId) -> StoreResult<bool> {
    Ok(tx
        .query_opt(
            "SELECT 1 FROM people WHERE id = ?1 AND deleted_at IS NULL",
            params![id.to_string()],
        )?
        .is_some())
}

fn exists(tx: &dyn Conn, table: &str, id: &str) -> StoreResult<bool> {
    tx.query_value(
        &format!("SELECT EXISTS(SELECT 1 FROM {table} WHERE id = ?1)"),
        params![id],
    )
}

/// The latest log entry of a record: its index and leaf hash.
fn head(tx: &dyn Conn, record_kind: &str, record_id: &str) -> StoreResult<(u64, String)> {
    let r = tx
        .query_opt(
            "SELECT h.seq, e.leaf_hash FROM ledger_heads h JOIN ledger_entries e ON e.seq = h.seq
             WHERE h.record_kind = ?1 AND h.record_id = ?2",
            params![record_kind, record_id],
        )?
        .ok_or_else(|| {
            StoreError::backend(std::io::Error::other(format!(
                "{record_kind} {record_id} has no log entry"
            )))
        })?;
    Ok((r.get(0)?, hex(&r.get::<Vec<u8>>(1)?)))
}

fn share_row(r: &Row) -> StoreResult<ShareRecord> {
    let decision = ShareDecision::parse("decision", &r.get::<String>(1)?).map_err(StoreError::backend)?;
    Ok(ShareRecord {
        recipient: RecipientId(parse_id(&r.get::<String>(0)?)?),
        decision,
        how: r.get(2)?,
        form: r
            .get::<Option<String>>(3)?
            .map(|f| parse_id(&f).map(EvidenceId))
            .transpose()?,
        at: parse_ts(&r.get::<String>(4)?)?,
        by: r.get(5)?,
    })
}

fn load_shares(tx: &dyn Conn, id: TestimonyId) -> StoreResult<Vec<ShareRecord>> {
    tx.query(
        "SELECT recipient_id, decision, how, form, at, by_name FROM testimony_shares
         WHERE testimony_id = ?1 ORDER BY seq",
        params![id.to_string()],
    )?
    .iter()
    .map(share_row)
    .collect()
}

fn load_recipient(tx: &dyn Conn, id: RecipientId) -> StoreResult<Option<Recipient>> {
    let Some(r) = tx.query_opt(
        "SELECT id, name, kind, language FROM recipients WHERE id = ?1",
        params![id.to_string()],
    )?
    else {
        return Ok(None);
    };
    let users = tx
        .query(
            "SELECT user_id FROM recipient_users WHERE recipient_id = ?1 ORDER BY user_id",
            params![id.to_string()],
        )?
        .iter()
        .map(|u| Ok(UserId(parse_id(&u.get::<String>(0)?)?)))
        .collect::<StoreResult<Vec<_>>>()?;
    Ok(Some(Recipient {
        id,
        name: r.get(1)?,
        kind: RecipientKind::parse("kind", &r.get::<String>(2)?).map_err(StoreError::backend)?,
        language: r.get(3)?,
        users,
    }))
}

const DOSSIER_COLUMNS: &str = "id, title, recipient_id, purpose, expires, redaction, include_files, testimonies, \
                               records, files, entry_seq, checkpoint_size, created_at, created_by_name";

fn dossier_row(tx: &dyn Conn, r: &Row) -> StoreResult<Dossier> {
    let recipient = RecipientId(parse_id(&r.get::<String>(2)?)?);
    Ok(Dossier {
        id: DossierId(parse_id(&r.get::<String>(0)?)?),
        title: r.get(1)?,
        recipient: load_recipient(tx, recipient)?.ok_or(StoreError::NotFound)?,
        purpose: r.get(3)?,
        expires: parse_day(&r.get::<String>(4)?)?,
        redaction: from_json(&r.get::<String>(5)?)?,
        include_files: r.get(6)?,
        testimonies: from_json(&r.get::<String>(7)?)?,
        records: from_json(&r.get::<String>(8)?)?,
        files: from_json(&r.get::<String>(9)?)?,
        entry: r.get(10)?,
        checkpoint_size: r.get(11)?,
        created_at: parse_ts(&r.get::<String>(12)?)?,
        created_by: r.get(13)?,
    })
}

fn load_dossier(tx: &dyn Conn, id: DossierId) -> StoreResult<Option<Dossier>> {
    tx.query_opt(
        &format!("SELECT {DOSSIER_COLUMNS} FROM dossiers WHERE id = ?1"),
        params![id.to_string()],
    )?
    .map(|r| dossier_row(tx, &r))
    .transpose()
}

/// The values an event's entry commits to.
fn event_values(e: &Event) -> StoreResult<Vec<(&'static str, Value)>> {
    Ok(vec![
        ("title", json!(e.title)),
        ("start", json!(e.start)),
        ("end", json!(e.end)),
        ("place", json!(e.place)),
        ("exact_place", json!(e.exact_place)),
        ("description", json!(e.description)),
        ("created_at", json!(rfc3339(e.created_at)?)),
        ("created_by", json!(e.created_by)),
    ])
}

/// The values a testimony's entry commits to.
fn testimony_values(t: &TestimonySummary, sealed: &Sealed, acts: &[Act]) -> StoreResult<Vec<(&'static str, Value)>> {
    Ok(vec![
        ("pseudonym", json!(t.pseudonym)),
        ("given_on", json!(fmt_day(t.given_on))),
        ("language", json!(t.language)),
        ("reliability", json!(t.reliability.code())),
        ("reliability_note", json!(sealed.reliability_note)),
        ("witness", json!(sealed.witness)),
        ("narrative", json!(sealed.narrative)),
        ("events", json!(t.events)),
        (
            "acts",
            Value::Array(
                acts.iter()
                    .map(|a| json!({"event": a.event, "act_type": a.act_type, "consequences": a.consequences}))
                    .collect(),
            ),
        ),
        ("victims", json!(acts.iter().map(|a| &a.victims).collect::<Vec<_>>())),
        (
            "perpetrators",
            json!(acts.iter().map(|a| &a.perpetrators).collect::<Vec<_>>()),
        ),
        ("sources", json!(sealed.sources)),
        ("evidence", json!(t.evidence)),
        (
            "confidential",
            json!(t.confidential.iter().map(|c| c.code()).collect::<Vec<_>>()),
        ),
        ("created_at", json!(rfc3339(t.created_at)?)),
        ("created_by", json!(t.created_by)),
    ])
}

fn acts_of(summary: &TestimonySummary, sealed: &Sealed) -> Vec<Act> {
    summary
        .acts
        .iter()
        .zip(
            sealed
                .names
                .iter()
                .cloned()
                .chain(std::iter::repeat((vec![], vec![], None))),
        )
        .map(|((event, act_type), (victims, perpetrators, consequences))| Act {
            event: *event,
            act_type: act_type.clone(),
            victims,
            perpetrators,
            consequences,
        })
        .collect()
}

impl<B: Backend> SqlStore<B> {
    fn event_row(&self, tx: &dyn Conn, r: &Row) -> StoreResult<Event> {
        let id = EventId(parse_id(&r.get::<String>(0)?)?);
        let exact_place = r
            .get::<Option<Vec<u8>>>(5)?
            .map(|sealed| {
                self.keys()
                    .open(PLACE_PURPOSE, &event_place(id), &sealed)
                    .map_err(StoreError::backend)
                    .and_then(|p| String::from_utf8(p.to_vec()).map_err(StoreError::backend))
            })
            .transpose()?;
        let testimonies = tx
            .query(
                "SELECT testimony_id FROM testimony_events WHERE event_id = ?1 ORDER BY testimony_id",
                params![id.to_string()],
            )?
            .iter()
            .map(|t| Ok(TestimonyId(parse_id(&t.get::<String>(0)?)?)))
            .collect::<StoreResult<Vec<_>>>()?;
        Ok(Event {
            id,
            title: r.get(1)?,
            start: r.get::<Option<String>>(2)?.map(|s| from_json(&s)).transpose()?,
            end: r.get::<Option<String>>(3)?.map(|s| from_json(&s)).transpose()?,
            place: r.get(4)?,
            exact_place,
            description: r.get(6)?,
            created_at: parse_ts(&r.get::<String>(7)?)?,
            created_by: r.get(8)?,
            testimonies,
        })
    }

    fn load_event(&self, tx: &dyn Conn, id: EventId) -> StoreResult<Option<Event>> {
        tx.query_opt(
            "SELECT id, title, start_date, end_date, place, exact_place, description, created_at, created_by_name
             FROM events WHERE id = ?1",
            params![id.to_string()],
        )?
        .map(|r| self.event_row(tx, &r))
        .transpose()
    }

    fn sealed_of(&self, tx: &dyn Conn, id: TestimonyId) -> StoreResult<Sealed> {
        let blob: Vec<u8> = tx.query_value(
            "SELECT protected FROM testimonies WHERE id = ?1",
            params![id.to_string()],
        )?;
        let plain = self
            .keys()
            .open(TESTIMONY_PURPOSE, &testimony_place(id), &blob)
            .map_err(StoreError::backend)?;
        serde_json::from_slice(&plain).map_err(json)
    }

    pub(crate) fn all_act_types(&self) -> StoreResult<Vec<ActType>> {
        self.read(|tx| {
            let mut out: Vec<ActType> = BUILT_IN_ACT_TYPES
                .iter()
                .map(|c| ActType {
                    code: c.to_string(),
                    labels: BTreeMap::new(),
                    built_in: true,
                })
                .collect();
            for r in tx.query("SELECT code, labels FROM act_types ORDER BY code", &[])? {
                out.push(ActType {
                    code: r.get(0)?,
                    labels: from_json(&r.get::<String>(1)?)?,
                    built_in: false,
                });
            }
            Ok(out)
        })
    }

    pub(crate) fn insert_act_type(
        &self,
        code: &str,
        labels: &BTreeMap<String, String>,
        ctx: &AuditContext,
    ) -> StoreResult<ActType> {
        let code = lantern_domain::testimony::act_type_code("code", code)?;
        let mut clean = BTreeMap::new();
        for (lang, label) in labels {
            let lang = lantern_domain::testimony::language("language", lang)?;
            if let Some(l) = lantern_domain::text::optional_text(&format!("label_{lang}"), label, 100, false)? {
                clean.insert(lang, l);
            }
        }
        if clean.is_empty() {
            return Err(FieldError::new("labels", Reason::Required).into());
        }
        self.write(|tx| {
            let taken: bool = tx.query_value(
                "SELECT EXISTS(SELECT 1 FROM act_types WHERE code = ?1)",
                params![code.as_str()],
            )?;
            if taken || BUILT_IN_ACT_TYPES.contains(&code.as_str()) {
                return Err(FieldError::new("code", Reason::Duplicate).into());
            }
            tx.execute(
                "INSERT INTO act_types (code, labels, created_at) VALUES (?1, ?2, ?3)",
                params![code.as_str(), to_json(&clean)?, fmt_ts(ctx.at)],
            )?;
            insert_audit(
                tx,
                &ctx.event(AuditAction::ActTypeCreate, "act_type", Some(code.clone()), &code),
            )?;
            Ok(ActType {
                code: code.clone(),
                labels: clean.clone(),
                built_in: false,
            })
        })
    }

    pub(crate) fn insert_event(&self, draft: &EventDraft, ctx: &AuditContext) -> StoreResult<Event> {
        let (id, sealed_place) = self.seal_event(draft)?;
        self.write(|tx| self.insert_event_tx(tx, id, sealed_place.clone(), draft, ctx))
    }

    /// A new event's id and its exact place sealed, before its transaction.
    fn seal_event(&self, draft: &EventDraft) -> StoreResult<(EventId, Option<Vec<u8>>)> {
        let id = EventId::new();
        let sealed_place = draft
            .exact_place
            .as_ref()
            .map(|p| self.keys().seal(PLACE_PURPOSE, &event_place(id), p.as_bytes()))
            .transpose()
            .map_err(StoreError::backend)?;
        Ok((id, sealed_place))
    }

    /// Writes an event inside the caller's transaction, with its log entry
    /// and audit event.
    fn insert_event_tx(
        &self,
        tx: &dyn Conn,
        id: EventId,
        sealed_place: Option<Vec<u8>>,
        draft: &EventDraft,
        ctx: &AuditContext,
    ) -> StoreResult<Event> {
        tx.execute(
            "INSERT INTO events (id, title, start_date, end_date, place, exact_place, description, created_at,
                                 created_by_name)
             VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9)",
            params![
                id.to_string(),
                draft.title.as_str(),
                draft.start.map(|d| to_json(&d)).transpose()?,
                draft.end.map(|d| to_json(&d)).transpose()?,
                draft.place.clone(),
                sealed_place,
                draft.description.clone(),
                fmt_ts(ctx.at),
                ctx.actor_name.as_str()
            ],
        )?;
        let event = self.load_event(tx, id)?.ok_or(StoreError::NotFound)?;
        crate::ledger::append_values(
            tx,
            crate::ledger::EntryHead {
                kind: "record.created",
                record_kind: "event",
                record_id: &id.to_string(),
                version: Some(1),
                at: ctx.at,
            },
            &event_values(&event)?,
        )?;
        insert_audit(
            tx,
            &ctx.event(AuditAction::EventCreate, "event", Some(id.to_string()), &event.title),
        )?;
        Ok(event)
    }

    pub(crate) fn event_by_id(&self, id: EventId) -> StoreResult<Option<Event>> {
        self.read(|tx| self.load_event(tx, id))
    }

    pub(crate) fn all_events(&self) -> StoreResult<Vec<Event>> {
        self.read(|tx| {
            tx.query(
                "SELECT id, title, start_date, end_date, place, exact_place, description, created_at, created_by_name
                 FROM events ORDER BY created_at DESC, id DESC",
                &[],
            )?
            .iter()
            .map(|r| self.event_row(tx, r))
            .collect()
        })
    }

    pub(crate) fn insert_testimony(&self, t: &TestimonyDraft, ctx: &AuditContext) -> StoreResult<TestimonySummary> {
        let prepared = self.seal_testimony(t)?;
        self.write(|tx| self.insert_testimony_tx(tx, &prepared, t, ctx))
    }

    /// Records a testimony with the new event it speaks to and the file
    /// its witness brought, all in one transaction: the event replaces the
    /// draft's events (and its acts'), the evidence joins its evidence.
    pub(crate) fn insert_testimony_with(
        &self,
        event: Option<&EventDraft>,
        evidence: Option<&lantern_store::NewEvidence>,
        t: &TestimonyDraft,
        ctx: &AuditContext,
    ) -> StoreResult<lantern_store::RecordedTestimony> {
        let event_prepared = event.map(|e| self.seal_event(e)).transpose()?;
        let evidence_prepared = evidence.map(|e| self.seal_evidence(e)).transpose()?;
        let mut draft = t.clone();
        if let Some((id, _)) = &event_prepared {
            draft.events = vec![*id];
            for act in &mut draft.acts {
                act.event = *id;
            }
        }
        let prepared = self.seal_testimony(&draft)?;
        self.write(|tx| {
            let event = match (event, &event_prepared) {
                (Some(e), Some((id, sealed))) => Some(self.insert_event_tx(tx, *id, sealed.clone(), e, ctx)?),
                _ => None,
            };
            let evidence = match (evidence, &evidence_prepared) {
                (Some(e), Some(sealed)) => Some(self.add_evidence_tx(tx, sealed, e, ctx)?),
                _ => None,
            };
            let mut draft = draft.clone();
            if let Some(added) = &evidence {
                draft.evidence.push(added.evidence.id);
            }
            let testimony = self.insert_testimony_tx(tx, &prepared, &draft, ctx)?;
            Ok(lantern_store::RecordedTestimony {
                testimony,
                draft,
                event,
                evidence,
            })
        })
    }

    /// A new testimony's id, its sealed parts and the act types it may
    /// use, before its transaction.
    fn seal_testimony(&self, t: &TestimonyDraft) -> StoreResult<PreparedTestimony> {
        lantern_domain::testimony::check_testimony(t).map_err(|mut e| StoreError::Invalid(e.remove(0)))?;
        let id = TestimonyId::new();
        let sealed = Sealed {
            witness: t.witness.clone(),
            narrative: t.narrative.clone(),
            names: t
                .acts
                .iter()
                .map(|a| (a.victims.clone(), a.perpetrators.clone(), a.consequences.clone()))
                .collect(),
            sources: t.sources.clone(),
            reliability_note: t.reliability_note.clone(),
        };
        let blob = self
            .keys()
            .seal(
                TESTIMONY_PURPOSE,
                &testimony_place(id),
                &serde_json::to_vec(&sealed).map_err(json)?,
            )
            .map_err(StoreError::backend)?;
        let known_types: BTreeSet<String> = self.all_act_types()?.into_iter().map(|a| a.code).collect();
        Ok(PreparedTestimony {
            id,
            sealed,
            blob,
            known_types,
        })
    }

    /// Writes a testimony inside the caller's transaction, with its log
    /// entry and audit event, after checking what it refers to.
    fn insert_testimony_tx(
        &self,
        tx: &dyn Conn,
        prepared: &PreparedTestimony,
        t: &TestimonyDraft,
        ctx: &AuditContext,
    ) -> StoreResult<TestimonySummary> {
        let PreparedTestimony {
            id,
            sealed,
            blob,
            known_types,
        } = prepared;
        let id = *id;
        if let Witness::Registered { person } = &t.witness {
            let known: bool = tx.query_value(
                "SELECT EXISTS(SELECT 1 FROM people WHERE id = ?1 AND deleted_at IS NULL)",
                params![person.to_string()],
            )?;
            if !known {
                return Err(FieldError::new("witness_person", Reason::NotFound).into());
            }
        }
        for (i, e) in t.events.iter().enumerate() {
            if !exists(tx, "events", &e.to_string())? {
                return Err(FieldError::new(format!("events[{i}]"), Reason::NotFound).into());
            }
        }
        for (i, e) in t.evidence.iter().enumerate() {
            if !exists(tx, "evidence", &e.to_string())? {
                return Err(FieldError::new(format!("evidence[{i}]"), Reason::NotFound).into());
            }
        }
        for (i, s) in t.sources.iter().enumerate() {
            if let Some(e) = s.evidence {
                if !exists(tx, "evidence", &e.to_string())? {
                    return Err(FieldError::new(format!("sources[{i}].evidence"), Reason::NotFound).into());
                }
            }
        }
        for (i, a) in t.acts.iter().enumerate() {
            if !known_types.contains(&a.act_type) {
                return Err(FieldError::new(format!("acts[{i}].act_type"), Reason::UnknownChoice).into());
            }
        }
        let acts: Vec<(EventId, &str)> = t.acts.iter().map(|a| (a.event, a.act_type.as_str())).collect();
        let confidential: Vec<ConfidentialPart> = t.confidential.iter().copied().collect();
        tx.execute(
            "INSERT INTO testimonies (id, pseudonym, given_on, language, reliability, acts, confidential, protected,
                                      created_at, created_by, created_by_name)
             VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11)",
            params![
                id.to_string(),
                t.pseudonym.trim(),
                fmt_day(t.given_on),
                t.language.as_str(),
                t.reliability.code(),
                to_json(&acts)?,
                to_json(&confidential)?,
                blob.clone(),
                fmt_ts(ctx.at),
                ctx.actor_id.map(|a| a.to_string()),
                ctx.actor_name.as_str()
            ],
        )?;
        for (i, e) in t.events.iter().enumerate() {
            tx.execute(
                "INSERT INTO testimony_events (testimony_id, event_id, position) VALUES (?1, ?2, ?3)
                 ON CONFLICT DO NOTHING",
                params![id.to_string(), e.to_string(), i as i64],
            )?;
        }
        for (i, e) in t.evidence.iter().enumerate() {
            tx.execute(
                "INSERT INTO testimony_evidence (testimony_id, evidence_id, position) VALUES (?1, ?2, ?3)
                 ON CONFLICT DO NOTHING",
                params![id.to_string(), e.to_string(), i as i64],
            )?;
        }
        let summary = load_summary(tx, id)?.ok_or(StoreError::NotFound)?;
        crate::ledger::append_values(
            tx,
            crate::ledger::EntryHead {
                kind: "record.created",
                record_kind: "testimony",
                record_id: &id.to_string(),
                version: Some(1),
                at: ctx.at,
            },
            &testimony_values(&summary, sealed, &t.acts)?,
        )?;
        insert_audit(
            tx,
            &ctx.event(
                AuditAction::TestimonyCreate,
                "testimony",
                Some(id.to_string()),
                &summary.pseudonym,
            ),
        )?;
        Ok(summary)
    }

    pub(crate) fn testimony_by_id(&self, id: TestimonyId) -> StoreResult<Option<TestimonySummary>> {
        self.read(|tx| load_summary(tx, id))
    }

    pub(crate) fn testimony_page(&self, page: PageRequest) -> StoreResult<Page<TestimonySummary>> {
        self.read(|tx| {
            let total: u64 = tx.query_value("SELECT COUNT(*) FROM testimonies", &[])?;
            let items = tx
                .query(
                    &format!(
                        "SELECT {SUMMARY_COLUMNS} FROM testimonies ORDER BY created_at DESC, id DESC LIMIT ?1 OFFSET ?2"
                    ),
                    params![page.size as i64, page.offset() as i64],
                )?
                .iter()
                .map(|r| summary_row(tx, r))
                .collect::<StoreResult<Vec<_>>>()?;
            Ok(Page {
                items,
                page: page.page,
                size: page.size,
                total,
                total_is_lower_bound: false,
            })
        })
    }

    /// A testimony with the parts `confidential` allows unsealed.
    fn full_in(&self, tx: &dyn Conn, id: TestimonyId, confidential: bool) -> StoreResult<TestimonyFull> {
        let summary = load_summary(tx, id)?.ok_or(StoreError::NotFound)?;
        let sealed = self.sealed_of(tx, id)?;
        let hidden = |part: ConfidentialPart| !confidential && summary.confidential.contains(&part);
        let mut acts = acts_of(&summary, &sealed);
        for a in &mut acts {
            if hidden(ConfidentialPart::Victims) {
                a.victims.clear();
            }
            if hidden(ConfidentialPart::Perpetrators) {
                a.perpetrators.clear();
            }
        }
        Ok(TestimonyFull {
            witness: confidential.then(|| sealed.witness.clone()),
            narrative: (!hidden(ConfidentialPart::Narrative)).then(|| sealed.narrative.clone()),
            acts,
            sources: (!hidden(ConfidentialPart::Sources)).then(|| sealed.sources.clone()),
            reliability_note: sealed.reliability_note.clone(),
            summary,
        })
    }

    pub(crate) fn read_testimony_in(
        &self,
        id: TestimonyId,
        confidential: bool,
        ctx: &AuditContext,
    ) -> StoreResult<TestimonyFull> {
        self.write(|tx| {
            let full = self.full_in(tx, id, confidential)?;
            let action = if confidential {
                AuditAction::TestimonyReadConfidential
            } else {
                AuditAction::TestimonyView
            };
            insert_audit(tx, &ctx.event(action, "testimony", Some(id.to_string()), ""))?;
            Ok(full)
        })
    }

    pub(crate) fn testimonies_unsealed(&self, page: PageRequest) -> StoreResult<Vec<TestimonyFull>> {
        self.read(|tx| {
            tx.query(
                "SELECT id FROM testimonies ORDER BY created_at, id LIMIT ?1 OFFSET ?2",
                params![page.size as i64, page.offset() as i64],
            )?
            .iter()
            .map(|r| self.full_in(tx, TestimonyId(parse_id(&r.get::<String>(0)?)?), true))
            .collect()
        })
    }

    pub(crate) fn insert_share(
        &self,
        id: TestimonyId,
        d: &NewShareDecision,
        ctx: &AuditContext,
    ) -> StoreResult<ShareRecord> {
        let how = lantern_domain::text::required_text("how", &d.how, lantern_domain::testimony::MAX_SHORT)?;
        self.write(|tx| {
            if !exists(tx, "testimonies", &id.to_string())? {
                return Err(StoreError::NotFound);
            }
            if !exists(tx, "recipients", &d.recipient.to_string())? {
                return Err(FieldError::new("recipient_id", Reason::NotFound).into());
            }
            if let Some(form) = d.form {
                if !exists(tx, "evidence", &form.to_string())? {
                    return Err(FieldError::new("form", Reason::NotFound).into());
                }
            }
            let seq: i64 = tx.query_value("SELECT COALESCE(MAX(seq) + 1, 0) FROM testimony_shares", &[])?;
            tx.execute(
                "INSERT INTO testimony_shares (seq, testimony_id, recipient_id, decision, how, form, at, by_name)
                 VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8)",
                params![
                    seq,
                    id.to_string(),
                    d.recipient.to_string(),
                    d.decision.code(),
                    how.as_str(),
                    d.form.map(|f| f.to_string()),
                    fmt_ts(ctx.at),
                    ctx.actor_name.as_str()
                ],
            )?;
            crate::ledger::append_values(
                tx,
                crate::ledger::EntryHead {
                    kind: "consent.recorded",
                    record_kind: "testimony_share",
                    record_id: &seq.to_string(),
                    version: None,
                    at: ctx.at,
                },
                &[
                    ("testimony_id", json!(id)),
                    ("recipient_id", json!(d.recipient)),
                    ("decision", json!(d.decision.code())),
                    ("how", json!(how)),
                    ("form", json!(d.form)),
                    ("at", json!(rfc3339(ctx.at)?)),
                    ("by", json!(ctx.actor_name)),
                ],
            )?;
            insert_audit(
                tx,
                &ctx.event(
                    AuditAction::TestimonyShareConsent,
                    "testimony",
                    Some(id.to_string()),
                    d.decision.code(),
                ),
            )?;
            load_shares(tx, id)?.pop().ok_or(StoreError::NotFound)
        })
    }

    pub(crate) fn shares_of(&self, id: TestimonyId) -> StoreResult<Vec<ShareRecord>> {
        self.read(|tx| load_shares(tx, id))
    }

    pub(crate) fn insert_recipient(
        &self,
        name: &str,
        kind: RecipientKind,
        language: &str,
        users: &[UserId],
        ctx: &AuditContext,
    ) -> StoreResult<Recipient> {
        let name = lantern_domain::text::required_text("name", name, lantern_domain::testimony::MAX_SHORT)?;
        let language = lantern_domain::testimony::language("language", language)?;
        self.write(|tx| {
            let taken: bool = tx.query_value(
                "SELECT EXISTS(SELECT 1 FROM recipients WHERE name = ?1)",
                params![name.as_str()],
            )?;
            if taken {
                return Err(FieldError::new("name", Reason::Duplicate).into());
            }
            let id = RecipientId::new();
            tx.execute(
                "INSERT INTO recipients (id, name, kind, language, created_at) VALUES (?1, ?2, ?3, ?4, ?5)",
                params![
                    id.to_string(),
                    name.as_str(),
                    kind.code(),
                    language.as_str(),
                    fmt_ts(ctx.at)
                ],
            )?;
            for (i, u) in users.iter().enumerate() {
                let role: Option<String> = tx
                    .query_opt("SELECT role FROM users WHERE id = ?1", params![u.to_string()])?
                    .map(|r| r.get(0))
                    .transpose()?;
                if role.as_deref() != Some(lantern_domain::policy::Role::ExternalOfficial.code()) {
                    return Err(FieldError::new(format!("users[{i}]"), Reason::UnknownChoice).into());
                }
                tx.execute(
                    "INSERT INTO recipient_users (recipient_id, user_id) VALUES (?1, ?2) ON CONFLICT DO NOTHING",
                    params![id.to_string(), u.to_string()],
                )?;
            }
            insert_audit(
                tx,
                &ctx.event(AuditAction::RecipientCreate, "recipient", Some(id.to_string()), &name),
            )?;
            load_recipient(tx, id)?.ok_or(StoreError::NotFound)
        })
    }

    pub(crate) fn all_recipients(&self) -> StoreResult<Vec<Recipient>> {
        self.read(|tx| {
            let ids = tx.query("SELECT id FROM recipients ORDER BY name", &[])?;
            ids.iter()
                .map(|r| load_recipient(tx, RecipientId(parse_id(&r.get::<String>(0)?)?))?.ok_or(StoreError::NotFound))
                .collect()
        })
    }

    pub(crate) fn insert_dossier(&self, d: &DossierDraft, ctx: &AuditContext) -> StoreResult<Dossier> {
        d.check(ctx.at.date())
            .map_err(|mut e| StoreError::Invalid(e.remove(0)))?;
        self.write(|tx| {
            let recipient = load_recipient(tx, d.recipient)?
                .ok_or_else(|| StoreError::Invalid(FieldError::new("recipient_id", Reason::NotFound)))?;
            let mut records: Vec<DossierRecord> = Vec::new();
            let mut seen = BTreeSet::new();
            let mut files: Vec<(String, u64)> = Vec::new();
            let mut add =
                |tx: &dyn Conn, kind: &str, id: String, records: &mut Vec<DossierRecord>| -> StoreResult<()> {
                    if seen.insert((kind.to_string(), id.clone())) {
                        let (index, leaf) = head(tx, kind, &id)?;
                        records.push(DossierRecord {
                            kind: kind.into(),
                            id,
                            index,
                            leaf,
                        });
                    }
                    Ok(())
                };
            let mut evidence: Vec<EvidenceId> = Vec::new();
            let mut witnesses: Vec<PersonId> = Vec::new();
            for (i, t) in d.testimonies.iter().enumerate() {
                let summary = load_summary(tx, *t)?.ok_or_else(|| {
                    StoreError::Invalid(FieldError::new(format!("testimonies[{i}]"), Reason::NotFound))
                })?;
                let decisions: Vec<(RecipientId, ShareDecision)> = load_shares(tx, *t)?
                    .into_iter()
                    .map(|s| (s.recipient, s.decision))
                    .collect();
                if !may_share(&decisions, d.recipient) {
                    return Err(FieldError::new(format!("testimonies[{i}]"), Reason::NotConsented).into());
                }
                if let Witness::Registered { person } = self.sealed_of(tx, *t)?.witness {
                    witnesses.push(person);
                }
                add(tx, "testimony", t.to_string(), &mut records)?;
                for e in &summary.events {
                    add(tx, "event", e.to_string(), &mut records)?;
                }
                evidence.extend(summary.evidence.iter().copied());
            }
            for (i, e) in d.events.iter().enumerate() {
                if self.load_event(tx, *e)?.is_none() {
                    return Err(FieldError::new(format!("events[{i}]"), Reason::NotFound).into());
                }
                add(tx, "event", e.to_string(), &mut records)?;
            }
            let redaction: BTreeSet<Redaction> = d.redaction.iter().copied().collect();
            for (i, p) in d.people.iter().enumerate() {
                let field = || format!("people[{i}]");
                may_include_person(*p, &witnesses, &redaction).map_err(|r| FieldError::new(field(), r))?;
                if !exists_live_person(tx, *p)? {
                    return Err(FieldError::new(field(), Reason::NotFound).into());
                }
                add(tx, "person", p.to_string(), &mut records)?;
            }
            evidence.extend(d.evidence.iter().copied());
            for (i, e) in evidence.iter().enumerate() {
                let row = tx
                    .query_opt(
                        "SELECT sha256, size FROM evidence WHERE id = ?1",
                        params![e.to_string()],
                    )?
                    .ok_or_else(|| StoreError::Invalid(FieldError::new(format!("evidence[{i}]"), Reason::NotFound)))?;
                let (sha, size): (String, u64) = (row.get(0)?, row.get(1)?);
                add(tx, "evidence", e.to_string(), &mut records)?;
                for c in tx.query(
                    "SELECT seq FROM custody_events WHERE evidence_id = ?1 ORDER BY seq",
                    params![e.to_string()],
                )? {
                    add(tx, "custody", c.get::<i64>(0)?.to_string(), &mut records)?;
                }
                if !files.iter().any(|(s, _)| *s == sha) {
                    files.push((sha, size));
                }
            }
            let id = DossierId::new();
            let redaction: Vec<Redaction> = redaction.into_iter().collect();
            // The time as stored (microseconds), so the audit can recompute it.
            let values = dossier_values(&DossierCommitted {
                created_at: parse_ts(&fmt_ts(ctx.at))?,
                created_by: &ctx.actor_name,
                expires: d.expires,
                files: &files,
                recipient: &recipient,
                purpose: d.purpose.trim(),
                records: &records,
                redaction: &redaction,
                title: d.title.trim(),
            })?;
            let pairs: Vec<(&str, Value)> = values.iter().map(|(k, v)| (*k, v.clone())).collect();
            let entry = crate::ledger::append_values(
                tx,
                crate::ledger::EntryHead {
                    kind: DOSSIER_ENTRY,
                    record_kind: "dossier",
                    record_id: &id.to_string(),
                    version: None,
                    at: ctx.at,
                },
                &pairs,
            )?;
            tx.execute(
                "INSERT INTO dossiers (id, title, recipient_id, purpose, expires, redaction, include_files, testimonies,
                                       records, files, entry_seq, fields, created_at, created_by_name)
                 VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13, ?14)",
                params![
                    id.to_string(),
                    d.title.trim(),
                    d.recipient.to_string(),
                    d.purpose.trim(),
                    fmt_day(d.expires),
                    to_json(&redaction)?,
                    d.include_files,
                    to_json(&d.testimonies)?,
                    to_json(&records)?,
                    to_json(&files)?,
                    entry as i64,
                    to_json(&values)?,
                    fmt_ts(ctx.at),
                    ctx.actor_name.as_str()
                ],
            )?;
            insert_audit(
                tx,
                &ctx.event(
                    AuditAction::DossierCreate,
                    "dossier",
                    Some(id.to_string()),
                    &recipient.name,
                ),
            )?;
            load_dossier(tx, id)?.ok_or(StoreError::NotFound)
        })
    }

    pub(crate) fn dossier_by_id(&self, id: DossierId) -> StoreResult<Option<Dossier>> {
        self.read(|tx| load_dossier(tx, id))
    }

    pub(crate) fn dossier_list(&self, recipients: Option<&[RecipientId]>) -> StoreResult<Vec<Dossier>> {
        self.read(|tx| {
            let rows = tx.query(
                &format!("SELECT {DOSSIER_COLUMNS} FROM dossiers ORDER BY created_at DESC, id DESC"),
                &[],
            )?;
            let mut out = Vec::new();
            for r in &rows {
                let d = dossier_row(tx, r)?;
                if recipients.is_none_or(|list| list.contains(&d.recipient.id)) {
                    out.push(d);
                }
            }
            Ok(out)
        })
    }

    pub(crate) fn fix_checkpoint(&self, id: DossierId, size: u64) -> StoreResult<u64> {
        self.write(|tx| {
            let d = load_dossier(tx, id)?.ok_or(StoreError::NotFound)?;
            if let Some(fixed) = d.checkpoint_size {
                return Ok(fixed);
            }
            if size <= d.entry {
                return Err(StoreError::backend(std::io::Error::other(
                    "the checkpoint does not cover the dossier's entry yet",
                )));
            }
            tx.execute(
                "UPDATE dossiers SET checkpoint_size = ?1 WHERE id = ?2",
                params![size as i64, id.to_string()],
            )?;
            Ok(size)
        })
    }

    /// The values a record's entry `index` commits to, recomputed from the
    /// stored record, and the fields the store withholds unread.
    /// Testimonies, events, evidence and custody events have one entry
    /// each; a person has one per version, and the dossier's is read back
    /// from the version history, so later edits do not change what the
    /// dossier holds.
    fn committed_values(&self, tx: &dyn Conn, kind: &str, id: &str, index: u64) -> StoreResult<Committed> {
        let owned = |v: Vec<(&'static str, Value)>| v.into_iter().map(|(k, v)| (k.to_string(), v)).collect();
        let strings =
            |v: Vec<(&'static str, Option<String>)>| v.into_iter().map(|(k, v)| (k.to_string(), json!(v))).collect();
        let values = match kind {
            "testimony" => {
                let tid = TestimonyId(parse_id(id)?);
                let summary = load_summary(tx, tid)?.ok_or(StoreError::NotFound)?;
                let sealed = self.sealed_of(tx, tid)?;
                let acts = acts_of(&summary, &sealed);
                Ok(owned(testimony_values(&summary, &sealed, &acts)?))
            }
            "event" => {
                let e = self
                    .load_event(tx, EventId(parse_id(id)?))?
                    .ok_or(StoreError::NotFound)?;
                Ok(owned(event_values(&e)?))
            }
            "evidence" => {
                let eid = EvidenceId(parse_id(id)?);
                let (evidence, object, details) = self.evidence_for_entry(tx, eid)?;
                Ok(strings(crate::evidence::evidence_fields(&evidence, &object, &details)?))
            }
            "custody" => {
                let c = crate::evidence::custody_by_seq(tx, id.parse().map_err(StoreError::backend)?)?;
                Ok(strings(crate::evidence::custody_fields(&c)))
            }
            "person" => {
                let (_, entry, _) = entry_and_salts(tx, index)?;
                let core: String = tx.query_value(
                    "SELECT core FROM person_versions WHERE person_id = ?1 AND version = ?2",
                    params![id, entry.version.unwrap_or_default()],
                )?;
                let core: lantern_domain::person::PersonCore = from_json(&core)?;
                let values = crate::people::person_values(&core)?;
                return Ok((values, vec!["protected".into()]));
            }
            _ => Err(StoreError::backend(std::io::Error::other(format!(
                "no disclosure for records of kind {kind}"
            )))),
        };
        Ok((values?, Vec::new()))
    }

    pub(crate) fn disclosures(&self, id: DossierId, ctx: &AuditContext) -> StoreResult<Vec<Disclosure>> {
        self.write(|tx| {
            let d = load_dossier(tx, id)?.ok_or(StoreError::NotFound)?;
            let fields: String =
                tx.query_value("SELECT fields FROM dossiers WHERE id = ?1", params![id.to_string()])?;
            let own: BTreeMap<String, Value> = from_json(&fields)?;
            let mut out = vec![disclosure(tx, d.entry, own.into_iter().collect(), Vec::new())?];
            for r in &d.records {
                let (values, unread) = self.committed_values(tx, &r.kind, &r.id, r.index)?;
                let one = disclosure(tx, r.index, values, unread)?;
                if hex(&lantern_ledger::leaf_hash(&one.entry)) != r.leaf {
                    return Err(StoreError::backend(std::io::Error::other(format!(
                        "entry {} is not the one the dossier lists",
                        r.index
                    ))));
                }
                out.push(one);
            }
            if d.include_files {
                for r in d.records.iter().filter(|r| r.kind == "evidence") {
                    let eid = EvidenceId(parse_id(&r.id)?);
                    let sha: String =
                        tx.query_value("SELECT sha256 FROM evidence WHERE id = ?1", params![r.id.as_str()])?;
                    crate::evidence::insert_custody(
                        tx,
                        eid,
                        lantern_domain::evidence::CustodyKind::Exported,
                        Some(d.recipient.name.clone()),
                        Some(format!("dossier {id}")),
                        &sha,
                        ctx,
                    )?;
                }
            }
            insert_audit(
                tx,
                &ctx.event(
                    AuditAction::DossierDownload,
                    "dossier",
                    Some(id.to_string()),
                    &d.recipient.name,
                ),
            )?;
            Ok(out)
        })
    }
}

/// A record's committed values, and the names of committed fields the
/// store withholds without opening them.
type Committed = (Vec<(String, Value)>, Vec<String>);

/// A testimony prepared outside its transaction.
struct PreparedTestimony {
    id: TestimonyId,
    sealed: Sealed,
    blob: Vec<u8>,
    known_types: BTreeSet<String>,
}

/// What a dossier's entry commits to.
pub(crate) struct DossierCommitted<'a> {
    pub created_at: time::OffsetDateTime,
    pub created_by: &'a str,
    pub expires: time::Date,
    pub files: &'a [(String, u64)],
    pub recipient: &'a Recipient,
    pub purpose: &'a str,
    pub records: &'a [DossierRecord],
    pub redaction: &'a [Redaction],
    pub title: &'a str,
}

/// The values a dossier's entry commits to (exactly
/// [`lantern_ledger::bundle::DOSSIER_FIELDS`]), from the dossier as built
/// or as stored, so the ledger audit can recompute them.
pub(crate) fn dossier_values(d: &DossierCommitted<'_>) -> StoreResult<BTreeMap<&'static str, Value>> {
    Ok([
        ("created_at", json!(rfc3339(d.created_at)?)),
        ("created_by", json!(d.created_by)),
        ("expires", json!(fmt_day(d.expires))),
        (
            "files",
            json!(d
                .files
                .iter()
                .map(|(sha256, size)| FileRef {
                    sha256: sha256.clone(),
                    size: *size
                })
                .collect::<Vec<_>>()),
        ),
        ("language", json!(d.recipient.language)),
        ("purpose", json!(d.purpose)),
        ("recipient", json!(d.recipient.name)),
        (
            "records",
            json!(d
                .records
                .iter()
                .map(|r| RecordRef {
                    index: r.index,
                    leaf: r.leaf.clone()
                })
                .collect::<Vec<_>>()),
        ),
        (
            "redaction",
            json!(d.redaction.iter().map(|r| r.code()).collect::<Vec<_>>()),
        ),
        ("title", json!(d.title)),
    ]
    .into_iter()
    .collect())
}

/// A log entry's bytes, parsed form and salts.
type EntrySalts = (Vec<u8>, Entry, BTreeMap<String, [u8; 32]>);

fn entry_and_salts(tx: &dyn Conn, index: u64) -> StoreResult<EntrySalts> {
    let bytes: Vec<u8> = tx.query_value("SELECT entry FROM ledger_entries WHERE seq = ?1", params![index as i64])?;
    let entry = Entry::parse(&bytes)
        .ok_or_else(|| StoreError::backend(std::io::Error::other(format!("entry {index} is not canonical"))))?;
    let salts: BTreeMap<String, [u8; 32]> = tx
        .query(
            "SELECT field, salt FROM ledger_salts WHERE seq = ?1",
            params![index as i64],
        )?
        .iter()
        .map(|r| {
            let salt: Vec<u8> = r.get(1)?;
            Ok((
                r.get(0)?,
                salt.try_into()
                    .map_err(|_| StoreError::backend(std::io::Error::other("salt length")))?,
            ))
        })
        .collect::<StoreResult<_>>()?;
    Ok((bytes, entry, salts))
}

/// What differs between a record's values now and the commitments of its
/// log entry `index`, in words; empty when they agree.
fn differences(tx: &dyn Conn, index: u64, values: &[(String, Value)]) -> StoreResult<Vec<String>> {
    let (_, entry, salts) = entry_and_salts(tx, index)?;
    let mut out = Vec::new();
    for (name, value) in values {
        let agrees = salts
            .get(name)
            .is_some_and(|salt| lantern_ledger::entry::check_disclosure(&entry, name, value, salt));
        if !agrees {
            out.push(format!("{name} differs from its commitment in log entry {index}"));
        }
    }
    if values.len() != entry.fields.len() {
        out.push(format!("the fields differ from those of log entry {index}"));
    }
    Ok(out)
}

impl<B: Backend> SqlStore<B> {
    /// The ledger audit of events, testimonies and dossiers: each stored
    /// record's values against its entry (a dossier's both as its columns
    /// and as the values its bundles disclose), and every entry against a
    /// stored record.
    pub(crate) fn testimony_discrepancies(&self) -> StoreResult<Vec<lantern_store::Discrepancy>> {
        let mut out = Vec::new();
        for (kind, table) in [
            ("event", "events"),
            ("testimony", "testimonies"),
            ("dossier", "dossiers"),
        ] {
            let heads: BTreeMap<String, u64> = self.heads(kind)?.into_iter().map(|h| (h.record_id, h.seq)).collect();
            let found = self.read(|tx| {
                let mut found = Vec::new();
                for r in tx.query(&format!("SELECT id FROM {table} ORDER BY id"), &[])? {
                    let id: String = r.get(0)?;
                    let Some(seq) = heads.get(&id).copied() else {
                        found.push((id, vec!["no log entry for this record".to_string()]));
                        continue;
                    };
                    let mut what = Vec::new();
                    if kind == "dossier" {
                        let d = load_dossier(tx, DossierId(parse_id(&id)?))?.ok_or(StoreError::NotFound)?;
                        let columns = dossier_values(&DossierCommitted {
                            created_at: d.created_at,
                            created_by: &d.created_by,
                            expires: d.expires,
                            files: &d.files,
                            recipient: &d.recipient,
                            purpose: &d.purpose,
                            records: &d.records,
                            redaction: &d.redaction,
                            title: &d.title,
                        })?;
                        let columns: Vec<(String, Value)> =
                            columns.into_iter().map(|(k, v)| (k.to_string(), v)).collect();
                        what.extend(differences(tx, seq, &columns)?);
                        let fields: String =
                            tx.query_value("SELECT fields FROM dossiers WHERE id = ?1", params![id.as_str()])?;
                        let disclosed: BTreeMap<String, Value> = from_json(&fields)?;
                        let disclosed: Vec<(String, Value)> = disclosed.into_iter().collect();
                        for w in differences(tx, seq, &disclosed)? {
                            what.push(format!("as its bundles disclose it: {w}"));
                        }
                    } else {
                        match self.committed_values(tx, kind, &id, seq) {
                            Ok((values, _)) => what.extend(differences(tx, seq, &values)?),
                            Err(e) => what.push(format!("its sealed parts do not open: {e}")),
                        }
                    }
                    found.push((id, what));
                }
                Ok(found)
            })?;
            for (id, what) in &found {
                for w in what {
                    out.push(lantern_store::Discrepancy {
                        record_kind: kind.into(),
                        record_id: id.clone(),
                        what: w.clone(),
                    });
                }
            }
            for id in heads.keys().filter(|id| !found.iter().any(|(f, _)| f == *id)) {
                out.push(lantern_store::Discrepancy {
                    record_kind: kind.into(),
                    record_id: id.clone(),
                    what: "in the log but missing from the database".into(),
                });
            }
        }
        Ok(out)
    }
}

/// An entry with its values and salts, each value checked against its
/// commitment: a record that no longer matches its entry is never sent.
fn disclosure(tx: &dyn Conn, index: u64, values: Vec<(String, Value)>, unread: Vec<String>) -> StoreResult<Disclosure> {
    let (bytes, entry, salts) = entry_and_salts(tx, index)?;
    let mut fields = BTreeMap::new();
    for (name, value) in values {
        let salt = *salts
            .get(&name)
            .ok_or_else(|| StoreError::backend(std::io::Error::other(format!("entry {index}: no salt for {name}"))))?;
        if !lantern_ledger::entry::check_disclosure(&entry, &name, &value, &salt) {
            return Err(StoreError::backend(std::io::Error::other(format!(
                "entry {index}: {name} differs from its commitment"
            ))));
        }
        fields.insert(name, (value, salt));
    }
    let unread_known = unread
        .iter()
        .all(|f| entry.fields.contains_key(f) && !fields.contains_key(f));
    if !unread_known || fields.len() + unread.len() != entry.fields.len() {
        return Err(StoreError::backend(std::io::Error::other(format!(
            "entry {index}: fields differ from the record's"
        ))));
    }
    Ok(Disclosure {
        index,
        entry: bytes,
        record_kind: entry.record_kind,
        fields,
        unread,
    })
}
