//! Tracing requests: filing, states, candidates and consent. The requester
//! is sealed at rest and every read of it is audited; every change writes
//! its audit event and a log entry in the same transaction.

use lantern_domain::audit::AuditAction;
use lantern_domain::person::{PersonCore, PersonId, Photo};
use lantern_domain::tracing::{
    message_text, messages_allowed, Channel, Consent, ConsentMethod, MessageDirection, MessageId, RequestId,
    RequestKind, RequestState, Scope,
};
use lantern_domain::{FieldError, Reason};
use lantern_store::{
    AuditContext, ConsentInput, NewTracingRequest, Page, RecordedConsent, RequestCandidate, RequestMessage,
    RequestQuery, RequestStep, RequestSummary, Requester, SoughtPerson, StoreError, StoreResult, TracingRequest,
};

use crate::sql::{Backend, Conn, ConnExt, Row, Value};
use crate::util::{fmt_ts, json, parse_id, parse_ts};
use crate::{insert_audit, params, SqlStore};

/// Purpose under which requesters' details are sealed.
pub(crate) const REQUESTER_PURPOSE: &str = "tracing-requester";

/// Purpose under which photos of the people sought are sealed.
pub(crate) const PHOTO_PURPOSE: &str = "tracing-photo";

pub(crate) fn place(id: RequestId) -> String {
    format!("request/{id}/requester")
}

/// Where the photo of the person sought is sealed.
pub(crate) fn photo_place(id: RequestId) -> String {
    format!("request/{id}/photo")
}

fn code_err(e: FieldError) -> StoreError {
    StoreError::backend(e)
}

/// Consent as stored: JSON of its scope codes, the do-not-trace flag, how,
/// the witness, who and when.
fn consent_json(c: &ConsentInput, ctx: &AuditContext) -> String {
    let mut scope: Vec<&str> = c.consent.scope.iter().map(|s| s.code()).collect();
    scope.sort_unstable();
    serde_json::json!({
        "scope": scope,
        "not_to_be_traced": c.consent.not_to_be_traced,
        "method": c.method.code(),
        "witness": c.witness,
        "form": c.form.map(|f| f.to_string()),
        "by": ctx.actor_name,
        "at": fmt_ts(ctx.at),
    })
    .to_string()
}

fn parse_consent(raw: &str) -> StoreResult<RecordedConsent> {
    let v: serde_json::Value = serde_json::from_str(raw).map_err(json)?;
    let text = |k: &str| v.get(k).and_then(|x| x.as_str()).unwrap_or_default().to_string();
    let scope = v
        .get("scope")
        .and_then(|s| s.as_array())
        .map(|a| {
            a.iter()
                .filter_map(|x| x.as_str())
                .map(|c| Scope::parse("scope", c).map_err(code_err))
                .collect::<StoreResult<_>>()
        })
        .transpose()?
        .unwrap_or_default();
    Ok(RecordedConsent {
        consent: Consent {
            scope,
            not_to_be_traced: v.get("not_to_be_traced").and_then(|x| x.as_bool()).unwrap_or(false),
        },
        method: ConsentMethod::parse("method", &text("method")).map_err(code_err)?,
        witness: v.get("witness").and_then(|x| x.as_str()).map(str::to_string),
        form: v
            .get("form")
            .and_then(|x| x.as_str())
            .map(|f| parse_id(f).map(lantern_domain::evidence::EvidenceId))
            .transpose()?,
        actor_name: text("by"),
        at: parse_ts(&text("at"))?,
    })
}

pub(crate) fn load(tx: &dyn Conn, id: RequestId) -> StoreResult<Option<TracingRequest>> {
    let Some(r) = tx.query_opt(
        "SELECT t.reference, t.version, t.kind, t.channel, t.state, t.sought, t.matched_id, p.display_name, t.consent,
                t.filed_at, p.core,
                CASE WHEN EXISTS(SELECT 1 FROM request_photos f WHERE f.request_id = t.id) THEN 1 ELSE 0 END
         FROM tracing_requests t LEFT JOIN people p ON p.id = t.matched_id WHERE t.id = ?1",
        params![id.to_string()],
    )?
    else {
        return Ok(None);
    };
    let candidates = tx
        .query(
            "SELECT c.person_id, p.display_name, c.probability, c.decision FROM request_candidates c
             JOIN people p ON p.id = c.person_id WHERE c.request_id = ?1",
            params![id.to_string()],
        )?
        .into_iter()
        .map(|c| {
            Ok(RequestCandidate {
                person: PersonId(parse_id(&c.get::<String>(0)?)?),
                name: c.get(1)?,
                probability: c.get::<String>(2)?.parse().map_err(StoreError::backend)?,
                decision: c.get(3)?,
            })
        })
        .collect::<StoreResult<Vec<_>>>()?;
    let mut candidates = candidates;
    candidates.sort_by(|a, b| b.probability.total_cmp(&a.probability).then(a.name.cmp(&b.name)));
    let steps = tx
        .query(
            "SELECT state, at, actor_name, reason FROM request_steps WHERE request_id = ?1 ORDER BY seq",
            params![id.to_string()],
        )?
        .into_iter()
        .map(|s| {
            Ok(RequestStep {
                state: RequestState::parse("state", &s.get::<String>(0)?).map_err(code_err)?,
                at: parse_ts(&s.get::<String>(1)?)?,
                actor_name: s.get(2)?,
                reason: s.get(3)?,
            })
        })
        .collect::<StoreResult<Vec<_>>>()?;
    let protected = match r.get::<Option<String>>(10)? {
        Some(core) => {
            serde_json::from_str::<PersonCore>(&core)
                .map_err(json)?
                .not_to_be_traced
        }
        None => false,
    };
    let matched = match r.get::<Option<String>>(6)? {
        Some(p) => Some((PersonId(parse_id(&p)?), r.get::<Option<String>>(7)?.unwrap_or_default())),
        None => None,
    };
    Ok(Some(TracingRequest {
        id,
        reference: r.get(0)?,
        version: r.get(1)?,
        kind: RequestKind::parse("kind", &r.get::<String>(2)?).map_err(code_err)?,
        channel: Channel::parse("channel", &r.get::<String>(3)?).map_err(code_err)?,
        state: RequestState::parse("state", &r.get::<String>(4)?).map_err(code_err)?,
        sought: serde_json::from_str(&r.get::<String>(5)?).map_err(json)?,
        matched,
        consent: r
            .get::<Option<String>>(8)?
            .map(|c| parse_consent(&c))
            .transpose()?
            .map(|mut c| {
                // The person's own protection flag outweighs what they
                // allowed on this request: every disclosure rule reads
                // `not_to_be_traced` from here.
                c.consent.not_to_be_traced |= protected;
                c
            }),
        candidates,
        steps,
        filed_at: parse_ts(&r.get::<String>(9)?)?,
        has_photo: r.get::<i64>(11)? == 1,
    }))
}

/// A hash of what a candidate pair is judged on: the person's identifying
/// fields and the request's description of the person sought (its free
/// notes aside).
fn data_key(core: &PersonCore, sought: &SoughtPerson) -> StoreResult<String> {
    let sought = SoughtPerson {
        notes: None,
        ..sought.clone()
    };
    let person = serde_json::json!({
        "names": core.names,
        "father_name": core.father_name,
        "mother_name": core.mother_name,
        "sex": core.sex,
        "birth_date": core.birth_date,
        "birth_place": core.birth_place,
        "nationality": core.nationality,
    });
    let text = serde_json::to_vec(&(person, sought)).map_err(json)?;
    let (hash, _) = lantern_ledger::bundle::hash_reader(&mut text.as_slice()).map_err(StoreError::backend)?;
    Ok(lantern_ledger::entry::hex(&hash))
}

/// Withdraws the open proposals of a person who is now not to be traced,
/// inside the caller's transaction; a request left without an open
/// proposal goes back to searching.
pub(crate) fn withdraw_proposals(tx: &dyn Conn, person: PersonId, ctx: &AuditContext) -> StoreResult<()> {
    let requests: Vec<String> = tx
        .query(
            "SELECT request_id FROM request_candidates WHERE person_id = ?1 AND decision = 'proposed'
             ORDER BY request_id",
            params![person.to_string()],
        )?
        .iter()
        .map(|r| r.get(0))
        .collect::<StoreResult<_>>()?;
    tx.execute(
        "UPDATE request_candidates SET decision = 'withdrawn', decided_at = ?2
         WHERE person_id = ?1 AND decision = 'proposed'",
        params![person.to_string(), fmt_ts(ctx.at)],
    )?;
    for request in requests {
        let id = RequestId(parse_id(&request)?);
        insert_audit(
            tx,
            &ctx.event(
                AuditAction::RequestDecide,
                "tracing_request",
                Some(request.clone()),
                &format!("withdrawn {person}: not to be traced"),
            ),
        )?;
        let open: u64 = tx.query_value(
            "SELECT COUNT(*) FROM request_candidates WHERE request_id = ?1 AND decision = 'proposed'",
            params![request.as_str()],
        )?;
        let state: String = tx.query_value(
            "SELECT state FROM tracing_requests WHERE id = ?1",
            params![request.as_str()],
        )?;
        if open == 0 && state == RequestState::CandidatesFound.code() {
            move_in(
                tx,
                id,
                RequestState::CandidatesFound,
                RequestState::Searching,
                None,
                ctx,
            )?;
        }
    }
    Ok(())
}

/// Moves a request inside the caller's transaction, with its history row,
/// log entry and audit event.
pub(crate) fn move_in(
    tx: &dyn Conn,
    id: RequestId,
    expected: RequestState,
    to: RequestState,
    reason: Option<&str>,
    ctx: &AuditContext,
) -> StoreResult<()> {
    let r = load(tx, id)?.ok_or(StoreError::NotFound)?;
    if r.state != expected {
        return Err(StoreError::Conflict { current: r.version });
    }
    r.state.check_next(to)?;
    tx.execute(
        "UPDATE tracing_requests SET state = ?2, version = ?3, updated_at = ?4 WHERE id = ?1",
        params![id.to_string(), to.code(), r.version + 1, fmt_ts(ctx.at)],
    )?;
    insert_step(tx, id, r.steps.len() as i64 + 1, to, reason, ctx)?;
    log(
        tx,
        id,
        r.version + 1,
        "record.updated",
        &[("state", Some(to.code()))],
        ctx,
    )?;
    insert_audit(
        tx,
        &ctx.event(
            AuditAction::RequestState,
            "tracing_request",
            Some(id.to_string()),
            &format!("{} -> {}", r.state.code(), to.code()),
        ),
    )
}

fn insert_step(
    tx: &dyn Conn,
    id: RequestId,
    seq: i64,
    state: RequestState,
    reason: Option<&str>,
    ctx: &AuditContext,
) -> StoreResult<()> {
    tx.execute(
        "INSERT INTO request_steps (request_id, seq, state, at, actor_id, actor_name, reason)
         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7)",
        params![
            id.to_string(),
            seq,
            state.code(),
            fmt_ts(ctx.at),
            ctx.actor_id.map(|a| a.to_string()),
            &ctx.actor_name,
            reason
        ],
    )?;
    Ok(())
}

fn log(
    tx: &dyn Conn,
    id: RequestId,
    version: i64,
    kind: &str,
    fields: &[(&str, Option<&str>)],
    ctx: &AuditContext,
) -> StoreResult<()> {
    let mut c = lantern_ledger::entry::Commitments::new();
    for (name, value) in fields {
        c.add(name, value, crate::ledger::salt()?);
    }
    crate::ledger::append(
        tx,
        crate::ledger::EntryHead {
            kind,
            record_kind: "tracing_request",
            record_id: &id.to_string(),
            version: Some(version),
            at: ctx.at,
        },
        c,
    )?;
    Ok(())
}

/// A reference a family can read out on the phone: `TR-` and eight digits.
fn new_reference() -> StoreResult<String> {
    let mut b = [0u8; 4];
    lantern_vault::random_bytes(&mut b).map_err(StoreError::backend)?;
    Ok(format!("TR-{:08}", u32::from_be_bytes(b) % 100_000_000))
}

impl<B: Backend> SqlStore<B> {
    /// Seals and stores the photo of the person sought, inside the
    /// caller's transaction, with its audit event.
    pub(crate) fn put_request_photo(
        &self,
        tx: &dyn Conn,
        id: RequestId,
        photo: &Photo,
        ctx: &AuditContext,
    ) -> StoreResult<()> {
        let sealed = self
            .keys()
            .seal(PHOTO_PURPOSE, &photo_place(id), &photo.bytes)
            .map_err(StoreError::backend)?;
        tx.execute(
            "INSERT INTO request_photos (request_id, content_type, sealed, uploaded_at) VALUES (?1, ?2, ?3, ?4)
             ON CONFLICT (request_id) DO UPDATE SET content_type = ?2, sealed = ?3, uploaded_at = ?4",
            params![id.to_string(), photo.content_type, sealed, fmt_ts(ctx.at)],
        )?;
        let detail = format!("{} {} bytes", photo.content_type, photo.bytes.len());
        insert_audit(
            tx,
            &ctx.event(
                AuditAction::RequestPhoto,
                "tracing_request",
                Some(id.to_string()),
                &detail,
            ),
        )
    }

    pub(crate) fn load_request_photo(&self, id: RequestId) -> StoreResult<Option<Photo>> {
        let row = self.read(|tx| {
            tx.query_opt(
                "SELECT content_type, sealed FROM request_photos WHERE request_id = ?1",
                params![id.to_string()],
            )
        })?;
        let Some(row) = row else {
            return Ok(None);
        };
        self.open_photo(PHOTO_PURPOSE, &photo_place(id), &row).map(Some)
    }

    pub(crate) fn file(
        &self,
        r: &NewTracingRequest,
        photo: Option<&Photo>,
        secret_hash: &str,
        ctx: &AuditContext,
    ) -> StoreResult<TracingRequest> {
        if r.sought.names.iter().all(|n| n.trim().is_empty()) {
            return Err(FieldError::new("sought.names", Reason::Required).into());
        }
        let id = RequestId::new();
        let requester = serde_json::to_vec(&r.requester).map_err(json)?;
        let sealed = self
            .keys()
            .seal(REQUESTER_PURPOSE, &place(id), &requester)
            .map_err(StoreError::backend)?;
        let sought = serde_json::to_string(&r.sought).map_err(json)?;
        self.write(|tx| {
            // References are random; a clash (one in many millions) draws again.
            let mut reference = new_reference()?;
            while tx.query_value::<bool>(
                "SELECT EXISTS(SELECT 1 FROM tracing_requests WHERE reference = ?1)",
                params![reference.as_str()],
            )? {
                reference = new_reference()?;
            }
            let now = fmt_ts(ctx.at);
            tx.execute(
                "INSERT INTO tracing_requests (id, reference, secret_hash, version, kind, channel, state, requester,
                                               sought, matched_id, consent, filed_at, updated_at)
                 VALUES (?1, ?2, ?3, 1, ?4, ?5, ?6, ?7, ?8, NULL, NULL, ?9, ?9)",
                params![
                    id.to_string(),
                    reference.as_str(),
                    secret_hash,
                    r.kind.code(),
                    r.channel.code(),
                    RequestState::Filed.code(),
                    sealed.clone(),
                    sought.as_str(),
                    now.as_str()
                ],
            )?;
            insert_step(tx, id, 1, RequestState::Filed, None, ctx)?;
            let digest = hex::encode(lantern_ledger::leaf_hash(&sealed));
            log(
                tx,
                id,
                1,
                "record.created",
                &[
                    ("kind", Some(r.kind.code())),
                    ("channel", Some(r.channel.code())),
                    ("sought", Some(&sought)),
                    ("requester_sealed_digest", Some(&digest)),
                ],
                ctx,
            )?;
            insert_audit(
                tx,
                &ctx.event(
                    AuditAction::RequestFile,
                    "tracing_request",
                    Some(id.to_string()),
                    r.kind.code(),
                ),
            )?;
            if let Some(photo) = photo {
                self.put_request_photo(tx, id, photo, ctx)?;
            }
            load(tx, id)?.ok_or(StoreError::NotFound)
        })
    }

    pub(crate) fn edit_sought(
        &self,
        id: RequestId,
        expected: i64,
        sought: &SoughtPerson,
        ctx: &AuditContext,
    ) -> StoreResult<TracingRequest> {
        if sought.names.iter().all(|n| n.trim().is_empty()) {
            return Err(FieldError::new("names", Reason::Required).into());
        }
        let text = serde_json::to_string(sought).map_err(json)?;
        self.write(|tx| {
            let r = load(tx, id)?.ok_or(StoreError::NotFound)?;
            if r.version != expected {
                return Err(StoreError::Conflict { current: r.version });
            }
            if r.state.is_closed() {
                return Err(FieldError::new("state", Reason::StepNotAllowed).into());
            }
            tx.execute(
                "UPDATE tracing_requests SET sought = ?2, version = ?3, updated_at = ?4 WHERE id = ?1",
                params![id.to_string(), text.as_str(), r.version + 1, fmt_ts(ctx.at)],
            )?;
            log(tx, id, r.version + 1, "record.updated", &[("sought", Some(&text))], ctx)?;
            let changed: Vec<&str> = [
                ("names", r.sought.names != sought.names),
                ("father_name", r.sought.father_name != sought.father_name),
                ("birth_date", r.sought.birth_date != sought.birth_date),
                ("birth_place", r.sought.birth_place != sought.birth_place),
                ("last_seen", r.sought.last_seen != sought.last_seen),
                ("notes", r.sought.notes != sought.notes),
            ]
            .into_iter()
            .filter_map(|(name, differs)| differs.then_some(name))
            .collect();
            insert_audit(
                tx,
                &ctx.event(
                    AuditAction::RequestEdit,
                    "tracing_request",
                    Some(id.to_string()),
                    &changed.join(" "),
                ),
            )?;
            load(tx, id)?.ok_or(StoreError::NotFound)
        })
    }

    pub(crate) fn get_request(&self, id: RequestId) -> StoreResult<Option<TracingRequest>> {
        self.read(|tx| load(tx, id))
    }

    pub(crate) fn request_page(&self, q: &RequestQuery) -> StoreResult<Page<RequestSummary>> {
        let (clause, args): (&str, Vec<Value>) = match q.state {
            Some(s) => ("WHERE t.state = ?1", vec![s.code().into()]),
            None => ("", Vec::new()),
        };
        let page = q.page;
        self.read(|tx| {
            let total: u64 = tx.query_value(&format!("SELECT COUNT(*) FROM tracing_requests t {clause}"), &args)?;
            let items = tx
                .query(
                    &format!(
                        "SELECT t.id, t.reference, t.sought, t.kind, t.state, t.filed_at,
                            (SELECT COUNT(*) FROM request_candidates c WHERE c.request_id = t.id AND c.decision = 'proposed')
                         FROM tracing_requests t {clause} ORDER BY t.filed_at, t.id LIMIT {} OFFSET {}",
                        page.size,
                        page.offset()
                    ),
                    &args,
                )?
                .into_iter()
                .map(|r| {
                    let sought: SoughtPerson = serde_json::from_str(&r.get::<String>(2)?).map_err(json)?;
                    Ok(RequestSummary {
                        id: RequestId(parse_id(&r.get::<String>(0)?)?),
                        reference: r.get(1)?,
                        sought_name: sought.names.into_iter().next().unwrap_or_default(),
                        kind: RequestKind::parse("kind", &r.get::<String>(3)?).map_err(code_err)?,
                        state: RequestState::parse("state", &r.get::<String>(4)?).map_err(code_err)?,
                        filed_at: parse_ts(&r.get::<String>(5)?)?,
                        open_candidates: r.get(6)?,
                    })
                })
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

    pub(crate) fn requester_of(&self, id: RequestId, ctx: &AuditContext) -> StoreResult<Requester> {
        self.write(|tx| {
            let sealed: Vec<u8> = tx
                .query_opt(
                    "SELECT requester FROM tracing_requests WHERE id = ?1",
                    params![id.to_string()],
                )?
                .ok_or(StoreError::NotFound)?
                .get(0)?;
            let plain = self
                .keys()
                .open(REQUESTER_PURPOSE, &place(id), &sealed)
                .map_err(StoreError::backend)?;
            insert_audit(
                tx,
                &ctx.event(
                    AuditAction::RequestReadRequester,
                    "tracing_request",
                    Some(id.to_string()),
                    "",
                ),
            )?;
            serde_json::from_slice(&plain).map_err(json)
        })
    }

    pub(crate) fn step_request(
        &self,
        id: RequestId,
        expected: RequestState,
        to: RequestState,
        reason: Option<String>,
        ctx: &AuditContext,
    ) -> StoreResult<TracingRequest> {
        self.write(|tx| {
            move_in(tx, id, expected, to, reason.as_deref(), ctx)?;
            load(tx, id)?.ok_or(StoreError::NotFound)
        })
    }

    pub(crate) fn record_candidates(
        &self,
        id: RequestId,
        candidates: &[(PersonId, f64)],
        ctx: &AuditContext,
    ) -> StoreResult<TracingRequest> {
        self.write(|tx| {
            let mut r = load(tx, id)?.ok_or(StoreError::NotFound)?;
            // A filed request is moved to the search here, its own step,
            // rather than in a transaction of its own: one write (and one
            // turn of the write lock) fewer per filing.
            if r.state == RequestState::Filed {
                move_in(tx, id, RequestState::Filed, RequestState::Searching, None, ctx)?;
                r.state = RequestState::Searching;
            }
            // Candidates may be added while others wait for a decision (a
            // person registered since, found by the automatic re-match).
            if !matches!(
                r.state,
                RequestState::Searching | RequestState::NoCandidate | RequestState::CandidatesFound
            ) {
                return Err(FieldError::new("state", Reason::StepNotAllowed).into());
            }
            let sought = &r.sought;
            let mut new = 0;
            for (person, p) in candidates {
                let Some(core) = tx.query_opt(
                    "SELECT core FROM people WHERE id = ?1 AND deleted_at IS NULL",
                    params![person.to_string()],
                )?
                else {
                    continue;
                };
                let core: PersonCore = serde_json::from_str(&core.get::<String>(0)?).map_err(json)?;
                // A person not to be traced is never proposed, whoever asks.
                if core.not_to_be_traced {
                    continue;
                }
                let key = data_key(&core, sought)?;
                // A pair already proposed or confirmed stays as it was; a
                // rejected one comes back only when what it was judged on
                // has changed since; one withdrawn while the person was not
                // to be traced comes back once they may be again.
                new += tx.execute(
                    "INSERT INTO request_candidates (request_id, person_id, probability, decision, decided_at, data_key)
                     VALUES (?1, ?2, ?3, 'proposed', NULL, ?4)
                     ON CONFLICT (request_id, person_id) DO UPDATE
                         SET decision = 'proposed', decided_at = NULL, probability = ?3, data_key = ?4
                         WHERE request_candidates.decision = 'withdrawn'
                            OR (request_candidates.decision = 'rejected'
                                AND (request_candidates.data_key IS NULL OR request_candidates.data_key <> ?4))",
                    params![id.to_string(), person.to_string(), format!("{p:.4}"), key.as_str()],
                )?;
            }
            let open: u64 = tx.query_value(
                "SELECT COUNT(*) FROM request_candidates WHERE request_id = ?1 AND decision = 'proposed'",
                params![id.to_string()],
            )?;
            insert_audit(
                tx,
                &ctx.event(
                    AuditAction::RequestCandidates,
                    "tracing_request",
                    Some(id.to_string()),
                    &format!("{new} new, {open} open"),
                ),
            )?;
            let to = if open > 0 {
                RequestState::CandidatesFound
            } else {
                RequestState::NoCandidate
            };
            if to != r.state {
                move_in(tx, id, r.state, to, None, ctx)?;
            }
            load(tx, id)?.ok_or(StoreError::NotFound)
        })
    }

    pub(crate) fn decide(
        &self,
        id: RequestId,
        person: PersonId,
        confirm: bool,
        ctx: &AuditContext,
    ) -> StoreResult<TracingRequest> {
        self.write(|tx| {
            let r = load(tx, id)?.ok_or(StoreError::NotFound)?;
            if r.state != RequestState::CandidatesFound {
                return Err(StoreError::Conflict { current: r.version });
            }
            let changed = tx.execute(
                "UPDATE request_candidates SET decision = ?3, decided_at = ?4
                 WHERE request_id = ?1 AND person_id = ?2 AND decision = 'proposed'",
                params![
                    id.to_string(),
                    person.to_string(),
                    if confirm { "confirmed" } else { "rejected" },
                    fmt_ts(ctx.at)
                ],
            )?;
            if changed == 0 {
                return Err(FieldError::new("person_id", Reason::NotFound).into());
            }
            insert_audit(
                tx,
                &ctx.event(
                    AuditAction::RequestDecide,
                    "tracing_request",
                    Some(id.to_string()),
                    &format!("{} {person}", if confirm { "confirmed" } else { "rejected" }),
                ),
            )?;
            if confirm {
                tx.execute(
                    "UPDATE tracing_requests SET matched_id = ?2 WHERE id = ?1",
                    params![id.to_string(), person.to_string()],
                )?;
                move_in(tx, id, r.state, RequestState::MatchConfirmed, None, ctx)?;
            } else {
                let open: u64 = tx.query_value(
                    "SELECT COUNT(*) FROM request_candidates WHERE request_id = ?1 AND decision = 'proposed'",
                    params![id.to_string()],
                )?;
                if open == 0 {
                    move_in(tx, id, r.state, RequestState::Searching, None, ctx)?;
                }
            }
            load(tx, id)?.ok_or(StoreError::NotFound)
        })
    }

    pub(crate) fn consent(
        &self,
        id: RequestId,
        input: &ConsentInput,
        ctx: &AuditContext,
    ) -> StoreResult<TracingRequest> {
        let (consent, method) = (&input.consent, input.method);
        if method == ConsentMethod::VerbalWitnessed && input.witness.as_deref().is_none_or(|w| w.trim().is_empty()) {
            return Err(FieldError::new("witness", Reason::Required).into());
        }
        if method == ConsentMethod::SignedForm && input.form.is_none() {
            return Err(FieldError::new("form", Reason::Required).into());
        }
        self.write(|tx| {
            if let Some(form) = input.form {
                let known: bool = tx.query_value(
                    "SELECT EXISTS(SELECT 1 FROM evidence WHERE id = ?1)",
                    params![form.to_string()],
                )?;
                if !known {
                    return Err(FieldError::new("form", Reason::NotFound).into());
                }
            }
            let r = load(tx, id)?.ok_or(StoreError::NotFound)?;
            let given = !consent.scope.is_empty() && !consent.not_to_be_traced;
            let to = if given {
                RequestState::ConsentGiven
            } else {
                RequestState::ConsentDeclined
            };
            // Asked for the first time, or changed later (withdrawn or
            // widened); changed once contact began, the request keeps its
            // state unless consent is withdrawn.
            let keeps_state = to == RequestState::ConsentGiven
                && matches!(
                    r.state,
                    RequestState::MessageDelivered | RequestState::VisitScheduled | RequestState::VisitHeld
                );
            let allowed = keeps_state
                || matches!(
                    r.state,
                    RequestState::ConsentRequested | RequestState::ConsentGiven | RequestState::ConsentDeclined
                )
                || (to == RequestState::ConsentDeclined && r.state.next().contains(&to));
            if !allowed {
                return Err(FieldError::new("state", Reason::StepNotAllowed).into());
            }
            let stored = consent_json(input, ctx);
            tx.execute(
                "UPDATE tracing_requests SET consent = ?2 WHERE id = ?1",
                params![id.to_string(), stored.as_str()],
            )?;
            let mut scope: Vec<&str> = consent.scope.iter().map(|s| s.code()).collect();
            scope.sort_unstable();
            insert_audit(
                tx,
                &ctx.event(
                    AuditAction::RequestConsent,
                    "tracing_request",
                    Some(id.to_string()),
                    &format!("{} {}", method.code(), scope.join(",")),
                ),
            )?;
            if r.state == RequestState::ConsentDeclined && to == RequestState::ConsentGiven {
                move_in(
                    tx,
                    id,
                    r.state,
                    RequestState::ConsentRequested,
                    Some("consent changed"),
                    ctx,
                )?;
                move_in(tx, id, RequestState::ConsentRequested, to, None, ctx)?;
            } else if r.state != to && !keeps_state {
                move_in(tx, id, r.state, to, None, ctx)?;
            }
            load(tx, id)?.ok_or(StoreError::NotFound)
        })
    }

    pub(crate) fn by_reference(&self, reference: &str, secret_hash: &str) -> StoreResult<Option<TracingRequest>> {
        self.read(|tx| {
            let Some(r) = tx.query_opt(
                "SELECT id, secret_hash FROM tracing_requests WHERE reference = ?1",
                params![reference],
            )?
            else {
                return Ok(None);
            };
            let stored: String = r.get(1)?;
            // Compared in constant time: the hash must not leak through timing.
            if !lantern_vault::constant_time_eq(&stored, secret_hash) {
                return Ok(None);
            }
            load(tx, RequestId(parse_id(&r.get::<String>(0)?)?))
        })
    }
}

/// Keyring purpose of messages.
pub(crate) const MESSAGE_PURPOSE: &str = "request-message";

/// Where a message is sealed (associated data).
pub(crate) fn message_place(request: RequestId, id: MessageId) -> String {
    format!("request/{request}/message/{id}")
}

const MESSAGE_COLUMNS: &str = "id, direction, sealed, written_at, written_by, delivered_at, delivered_by";

impl<B: Backend> SqlStore<B> {
    fn message_row(&self, request: RequestId, r: &Row) -> StoreResult<RequestMessage> {
        let id = MessageId(parse_id(&r.get::<String>(0)?)?);
        let sealed: Vec<u8> = r.get(2)?;
        let plain = self
            .keys()
            .open(MESSAGE_PURPOSE, &message_place(request, id), &sealed)
            .map_err(StoreError::backend)?;
        Ok(RequestMessage {
            id,
            direction: MessageDirection::parse("direction", &r.get::<String>(1)?).map_err(code_err)?,
            text: String::from_utf8(plain.to_vec()).map_err(StoreError::backend)?,
            written_at: parse_ts(&r.get::<String>(3)?)?,
            written_by: r.get(4)?,
            delivered_at: r.get::<Option<String>>(5)?.map(|t: String| parse_ts(&t)).transpose()?,
            delivered_by: r.get(6)?,
        })
    }

    fn load_message(&self, tx: &dyn Conn, request: RequestId, id: MessageId) -> StoreResult<Option<RequestMessage>> {
        tx.query_opt(
            &format!("SELECT {MESSAGE_COLUMNS} FROM request_messages WHERE id = ?1 AND request_id = ?2"),
            params![id.to_string(), request.to_string()],
        )?
        .map(|r| self.message_row(request, &r))
        .transpose()
    }

    /// The log entry and audit event of a message's recording or delivery.
    fn log_message(
        &self,
        tx: &dyn Conn,
        request: RequestId,
        m: &RequestMessage,
        ctx: &AuditContext,
    ) -> StoreResult<()> {
        let delivered = m.delivered_at.is_some();
        crate::ledger::append_record(
            tx,
            crate::ledger::EntryHead {
                kind: if delivered { "record.updated" } else { "record.created" },
                record_kind: "message",
                record_id: &m.id.to_string(),
                version: Some(if delivered { 2 } else { 1 }),
                at: ctx.at,
            },
            &[
                ("request_id", Some(request.to_string())),
                ("direction", Some(m.direction.code().to_string())),
                ("text", Some(m.text.clone())),
                ("written_at", Some(fmt_ts(m.written_at))),
                ("written_by", Some(m.written_by.clone())),
                ("delivered_at", m.delivered_at.map(fmt_ts)),
            ],
        )?;
        let action = if delivered {
            AuditAction::RequestMessageDelivered
        } else {
            AuditAction::RequestMessage
        };
        insert_audit(
            tx,
            &ctx.event(action, "tracing_request", Some(request.to_string()), m.direction.code()),
        )
    }

    pub(crate) fn message(
        &self,
        request: RequestId,
        direction: MessageDirection,
        text: &str,
        ctx: &AuditContext,
    ) -> StoreResult<RequestMessage> {
        let text = message_text("text", text)?;
        let id = MessageId::new();
        let sealed = self
            .keys()
            .seal(MESSAGE_PURPOSE, &message_place(request, id), text.as_bytes())
            .map_err(StoreError::backend)?;
        self.write(|tx| {
            let r = load(tx, request)?.ok_or(StoreError::NotFound)?;
            if direction == MessageDirection::ToFamily && !messages_allowed(r.consent.as_ref().map(|c| &c.consent)) {
                return Err(FieldError::new("direction", Reason::NotConsented).into());
            }
            tx.execute(
                "INSERT INTO request_messages (id, request_id, direction, sealed, written_at, written_by)
                 VALUES (?1, ?2, ?3, ?4, ?5, ?6)",
                params![
                    id.to_string(),
                    request.to_string(),
                    direction.code(),
                    sealed.clone(),
                    fmt_ts(ctx.at),
                    ctx.actor_name.as_str()
                ],
            )?;
            let m = self.load_message(tx, request, id)?.ok_or(StoreError::NotFound)?;
            self.log_message(tx, request, &m, ctx)?;
            Ok(m)
        })
    }

    pub(crate) fn deliver(&self, request: RequestId, id: MessageId, ctx: &AuditContext) -> StoreResult<RequestMessage> {
        self.write(|tx| {
            let r = load(tx, request)?.ok_or(StoreError::NotFound)?;
            let m = self
                .load_message(tx, request, id)?
                .ok_or_else(|| StoreError::from(FieldError::new("message_id", Reason::NotFound)))?;
            if m.direction != MessageDirection::ToResident || m.delivered_at.is_some() {
                return Err(FieldError::new("message_id", Reason::StepNotAllowed).into());
            }
            if !messages_allowed(r.consent.as_ref().map(|c| &c.consent)) {
                return Err(FieldError::new("message_id", Reason::NotConsented).into());
            }
            tx.execute(
                "UPDATE request_messages SET delivered_at = ?2, delivered_by = ?3 WHERE id = ?1",
                params![id.to_string(), fmt_ts(ctx.at), ctx.actor_name.as_str()],
            )?;
            let m = self.load_message(tx, request, id)?.ok_or(StoreError::NotFound)?;
            self.log_message(tx, request, &m, ctx)?;
            if r.state == RequestState::ConsentGiven {
                move_in(tx, request, r.state, RequestState::MessageDelivered, None, ctx)?;
            }
            Ok(m)
        })
    }

    pub(crate) fn messages_of(&self, request: RequestId, ctx: &AuditContext) -> StoreResult<Vec<RequestMessage>> {
        self.write(|tx| {
            let rows = tx.query(
                &format!(
                    "SELECT {MESSAGE_COLUMNS} FROM request_messages WHERE request_id = ?1 ORDER BY written_at, id"
                ),
                params![request.to_string()],
            )?;
            let out = rows
                .iter()
                .map(|r| self.message_row(request, r))
                .collect::<StoreResult<Vec<_>>>()?;
            insert_audit(
                tx,
                &ctx.event(
                    AuditAction::RequestReadMessages,
                    "tracing_request",
                    Some(request.to_string()),
                    "",
                ),
            )?;
            Ok(out)
        })
    }
}

/// The `q`-quantile of sorted values (nearest rank).
fn quantile(sorted: &[f64], q: f64) -> Option<f64> {
    if sorted.is_empty() {
        return None;
    }
    let rank = ((q * sorted.len() as f64).ceil() as usize).clamp(1, sorted.len());
    Some(sorted[rank - 1])
}

impl<B: Backend> SqlStore<B> {
    pub(crate) fn figures(&self, now: time::OffsetDateTime) -> StoreResult<lantern_store::TracingFigures> {
        self.read(|tx| {
            let mut open_by_state = Vec::new();
            for r in tx.query(
                "SELECT state, COUNT(*) FROM tracing_requests GROUP BY state ORDER BY state",
                &[],
            )? {
                let state = RequestState::parse("state", &r.get::<String>(0)?).map_err(code_err)?;
                if !state.is_closed() {
                    open_by_state.push((state, r.get::<u64>(1)?));
                }
            }
            open_by_state.sort_by_key(|(s, _)| RequestState::ALL.iter().position(|x| x == s));
            let mut days = Vec::new();
            for r in tx.query(
                "SELECT t.filed_at, MIN(s.at) FROM tracing_requests t JOIN request_steps s ON s.request_id = t.id
                 WHERE s.state IN ('message_delivered', 'visit_held') GROUP BY t.id, t.filed_at",
                &[],
            )? {
                let (filed, contact) = (parse_ts(&r.get::<String>(0)?)?, parse_ts(&r.get::<String>(1)?)?);
                days.push((contact - filed).as_seconds_f64() / 86_400.0);
            }
            days.sort_by(f64::total_cmp);
            let closed: Vec<String> = RequestState::ALL
                .iter()
                .filter(|s| s.is_closed())
                .map(|s| format!("'{}'", s.code()))
                .collect();
            let oldest_open = tx
                .query(
                    &format!(
                        "SELECT reference, state, filed_at FROM tracing_requests WHERE state NOT IN ({})
                         ORDER BY filed_at, id LIMIT 5",
                        closed.join(", ")
                    ),
                    &[],
                )?
                .iter()
                .map(|r| {
                    Ok((
                        r.get::<String>(0)?,
                        RequestState::parse("state", &r.get::<String>(1)?).map_err(code_err)?,
                        parse_ts(&r.get::<String>(2)?)?,
                    ))
                })
                .collect::<StoreResult<Vec<_>>>()?;
            let monday = |d: time::Date| d - time::Duration::days(i64::from(d.weekday().number_days_from_monday()));
            let first = monday(now.date()) - time::Duration::weeks(11);
            let mut weeks: Vec<(time::Date, u64)> = (0..12).map(|i| (first + time::Duration::weeks(i), 0)).collect();
            for r in tx.query(
                "SELECT starts_at FROM visits WHERE status = 'held' AND starts_at >= ?1",
                params![fmt_ts(first.midnight().assume_utc())],
            )? {
                let week = monday(parse_ts(&r.get::<String>(0)?)?.date());
                if let Some(w) = weeks.iter_mut().find(|(d, _)| *d == week) {
                    w.1 += 1;
                }
            }
            Ok(lantern_store::TracingFigures {
                open_by_state,
                contacted: days.len() as u64,
                median_days_to_contact: quantile(&days, 0.5),
                p90_days_to_contact: quantile(&days, 0.9),
                oldest_open,
                visits_held_per_week: weeks,
            })
        })
    }
}

impl<B: Backend> SqlStore<B> {
    pub(crate) fn searching_in(&self) -> StoreResult<Vec<(RequestId, SoughtPerson)>> {
        self.read(|tx| {
            tx.query(
                "SELECT id, sought FROM tracing_requests
                 WHERE state IN ('filed', 'searching', 'no_candidate', 'candidates_found') ORDER BY id",
                &[],
            )?
            .iter()
            .map(|r| {
                let sought: SoughtPerson = serde_json::from_str(&r.get::<String>(1)?).map_err(json)?;
                Ok((RequestId(parse_id(&r.get::<String>(0)?)?), sought))
            })
            .collect()
        })
    }
}
