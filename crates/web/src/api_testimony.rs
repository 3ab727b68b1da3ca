//! The JSON API of testimonies, events, recipients and dossiers
//! (`/api/v1/events`, `/testimonies…`, `/recipients`, `/dossiers…`, and for
//! external officials `/shared-dossiers…`), and the building of a dossier's
//! bundle ([`lantern_ledger::bundle`]).

use std::collections::{BTreeMap, BTreeSet};
use std::io::{Read, Seek, SeekFrom};

use axum::body::Body;
use axum::extract::{Path, State};
use axum::http::{header, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use axum::{Json, Router};
use futures_util::StreamExt;
use lantern_domain::audit::AuditAction;
use lantern_domain::evidence::EvidenceId;
use lantern_domain::testimony::{
    withheld_fields, DossierDraft, DossierId, EventDraft, RecipientId, RecipientKind, Redaction, ShareDecision,
    TestimonyDraft, TestimonyId,
};
use lantern_domain::user::UserId;
use lantern_domain::{FieldError, Reason};
use lantern_ledger::bundle::{self, BundleWriter, ConsistencyPart, Disclosed, EntryPart, FilePart, Manifest};
use lantern_ledger::entry::hex;
use lantern_ledger::proof::TlogProof;
use lantern_store::{Dossier, NewShareDecision, PageRequest};
use serde::Deserialize;
use serde_json::Value;

use crate::api::ApiJson;
use crate::authz::{need, Authz};
use crate::context::Ctx;
use crate::error::AppError;
use crate::AppState;

/// The routes, nested under `/api/v1`.
pub fn routes() -> Router<AppState> {
    Router::new()
        .route("/act-types", get(list_act_types).post(add_act_type))
        .route("/events", get(list_events).post(create_event))
        .route("/events/{id}/corroboration", get(event_corroboration))
        .route("/testimonies", get(list_testimonies).post(create_testimony))
        .route("/testimonies/{id}", get(get_testimony))
        .route("/testimonies/{id}/sharing", post(add_share_decision))
        .route("/recipients", get(list_recipients).post(create_recipient))
        .route("/dossiers", get(list_dossiers).post(create_dossier))
        .route("/dossiers/{id}/bundle", get(dossier_bundle))
        .route("/search", get(search))
        .route("/shared-dossiers", get(list_shared))
        .route("/shared-dossiers/{id}", get(get_shared))
        .route("/shared-dossiers/{id}/bundle", get(shared_bundle))
}

fn parse_id<T>(field: &str, raw: &str, f: fn(&str, &str) -> Result<T, FieldError>) -> Result<T, AppError> {
    f(field, raw).map_err(|_| AppError::NotFound)
}

fn first(errors: Vec<FieldError>) -> AppError {
    AppError::from(lantern_store::StoreError::Invalid(
        errors
            .into_iter()
            .next()
            .unwrap_or_else(|| FieldError::new("body", Reason::InvalidFormat)),
    ))
}

async fn list_act_types(
    State(state): State<AppState>,
    _auth: Authz<need::TestimonyRead>,
) -> Result<Json<Value>, AppError> {
    let types = state.db(|s| s.act_types()).await?;
    Ok(Json(serde_json::json!({ "items": types })))
}

/// A full-text search: `q`, and at most `limit` results (default 20).
#[derive(Deserialize)]
struct SearchIn {
    #[serde(default)]
    q: String,
    #[serde(default)]
    limit: Option<usize>,
}

/// Testimonies and evidence records holding every word of `q`, in any
/// script, within what the caller's role may read; `complete` is false
/// while the index is still being built after a start.
async fn search(
    State(state): State<AppState>,
    auth: Authz<need::TextSearch>,
    axum::extract::Query(p): axum::extract::Query<SearchIn>,
) -> Result<Json<Value>, AppError> {
    let items = crate::search::run(&state, auth.user.role, &p.q, p.limit.unwrap_or(20)).await?;
    Ok(Json(
        serde_json::json!({ "items": items, "complete": state.search_complete() }),
    ))
}

/// A new act type: its code and labels by language.
#[derive(Deserialize)]
struct ActTypeIn {
    code: String,
    labels: BTreeMap<String, String>,
}

async fn add_act_type(
    State(state): State<AppState>,
    auth: Authz<need::VocabularyManage>,
    ApiJson(b): ApiJson<ActTypeIn>,
) -> Result<Response, AppError> {
    let audit = auth.ctx.audit(state.clock.now());
    let t = state.db(move |s| s.add_act_type(&b.code, &b.labels, &audit)).await?;
    Ok((StatusCode::CREATED, Json(t)).into_response())
}

/// An event: dates as `YYYY`, `YYYY-MM`, `YYYY-MM-DD` or `YYYY..YYYY`.
#[derive(Deserialize)]
struct EventIn {
    title: String,
    #[serde(default)]
    start: String,
    #[serde(default)]
    end: String,
    #[serde(default)]
    place: String,
    #[serde(default)]
    exact_place: String,
    #[serde(default)]
    description: String,
}

async fn list_events(State(state): State<AppState>, auth: Authz<need::TestimonyRead>) -> Result<Json<Value>, AppError> {
    let exact = lantern_domain::policy::allows(
        auth.user.role,
        lantern_domain::policy::Permission::TestimonyConfidential,
    );
    let mut events = state.db(|s| s.events()).await?;
    for e in &mut events {
        if !exact {
            e.exact_place = None;
        }
    }
    Ok(Json(serde_json::json!({ "items": events })))
}

/// An event's accounts, which of them are not independent and why, and
/// the events likely to be the same one recorded twice.
async fn event_corroboration(
    State(state): State<AppState>,
    auth: Authz<need::TestimonyConfidential>,
    Path(id): Path<String>,
) -> Result<Json<crate::pages::testimonies::EventView>, AppError> {
    let id = parse_id("id", &id, lantern_domain::testimony::EventId::parse)?;
    Ok(Json(
        crate::pages::testimonies::event_view(&state, &auth.ctx, id).await?,
    ))
}

async fn create_event(
    State(state): State<AppState>,
    auth: Authz<need::TestimonyWrite>,
    ApiJson(b): ApiJson<EventIn>,
) -> Result<Response, AppError> {
    let today = state.clock.now().date();
    let draft = EventDraft::parse(
        &b.title,
        &b.start,
        &b.end,
        &b.place,
        &b.exact_place,
        &b.description,
        today,
    )
    .map_err(first)?;
    let audit = auth.ctx.audit(state.clock.now());
    let e = state.db(move |s| s.create_event(&draft, &audit)).await?;
    Ok((StatusCode::CREATED, Json(e)).into_response())
}

async fn create_testimony(
    State(state): State<AppState>,
    auth: Authz<need::TestimonyWrite>,
    ApiJson(b): ApiJson<TestimonyDraft>,
) -> Result<Response, AppError> {
    let draft = b.cleaned().map_err(first)?;
    if draft.given_on > state.clock.now().date() {
        return Err(first(vec![FieldError::new("given_on", Reason::DateInFuture)]));
    }
    let audit = auth.ctx.audit(state.clock.now());
    let recorded = draft.clone();
    let t = state.db(move |s| s.create_testimony(&draft, &audit)).await?;
    state
        .index_testimony(lantern_store::TestimonyFull::recorded(recorded, t.clone()))
        .await;
    Ok((StatusCode::CREATED, Json(t)).into_response())
}

async fn list_testimonies(
    State(state): State<AppState>,
    _auth: Authz<need::TestimonyRead>,
) -> Result<Json<Value>, AppError> {
    let page = state.db(|s| s.testimonies(PageRequest::new(1, 200))).await?;
    Ok(Json(serde_json::json!({ "items": page.items, "total": page.total })))
}

async fn get_testimony(
    State(state): State<AppState>,
    auth: Authz<need::TestimonyRead>,
    Path(id): Path<String>,
) -> Result<Json<Value>, AppError> {
    let id = parse_id("id", &id, TestimonyId::parse)?;
    let confidential = lantern_domain::policy::allows(
        auth.user.role,
        lantern_domain::policy::Permission::TestimonyConfidential,
    );
    let audit = auth.ctx.audit(state.clock.now());
    let full = state.db(move |s| s.read_testimony(id, confidential, &audit)).await?;
    let shares = if confidential {
        state.db(move |s| s.share_decisions(id)).await?
    } else {
        Vec::new()
    };
    Ok(Json(serde_json::json!({ "testimony": full, "sharing": shares })))
}

/// A witness's decision about a recipient.
#[derive(Deserialize)]
struct ShareIn {
    recipient_id: String,
    decision: ShareDecision,
    how: String,
    #[serde(default)]
    form: Option<String>,
}

async fn add_share_decision(
    State(state): State<AppState>,
    auth: Authz<need::TestimonyWrite>,
    Path(id): Path<String>,
    ApiJson(b): ApiJson<ShareIn>,
) -> Result<Response, AppError> {
    let id = parse_id("id", &id, TestimonyId::parse)?;
    let decision = NewShareDecision {
        recipient: RecipientId::parse("recipient_id", &b.recipient_id).map_err(|e| first(vec![e]))?,
        decision: b.decision,
        how: b.how,
        form: b
            .form
            .as_deref()
            .map(|f| EvidenceId::parse("form", f))
            .transpose()
            .map_err(|e| first(vec![e]))?,
    };
    let audit = auth.ctx.audit(state.clock.now());
    let r = state
        .db(move |s| s.record_share_decision(id, &decision, &audit))
        .await?;
    Ok((StatusCode::CREATED, Json(r)).into_response())
}

/// A recipient and the external-official accounts receiving its dossiers.
#[derive(Deserialize)]
struct RecipientIn {
    name: String,
    kind: String,
    language: String,
    #[serde(default)]
    users: Vec<String>,
}

async fn list_recipients(
    State(state): State<AppState>,
    _auth: Authz<need::DossierManage>,
) -> Result<Json<Value>, AppError> {
    let r = state.db(|s| s.recipients()).await?;
    Ok(Json(serde_json::json!({ "items": r })))
}

async fn create_recipient(
    State(state): State<AppState>,
    auth: Authz<need::DossierManage>,
    ApiJson(b): ApiJson<RecipientIn>,
) -> Result<Response, AppError> {
    let kind = RecipientKind::parse("kind", &b.kind).map_err(|e| first(vec![e]))?;
    let users = b
        .users
        .iter()
        .enumerate()
        .map(|(i, u)| {
            uuid::Uuid::parse_str(u.trim())
                .map(UserId)
                .map_err(|_| first(vec![FieldError::new(format!("users[{i}]"), Reason::InvalidId)]))
        })
        .collect::<Result<Vec<_>, _>>()?;
    let audit = auth.ctx.audit(state.clock.now());
    let r = state
        .db(move |s| s.create_recipient(&b.name, kind, &b.language, &users, &audit))
        .await?;
    Ok((StatusCode::CREATED, Json(r)).into_response())
}

/// A dossier to build.
#[derive(Deserialize)]
struct DossierIn {
    title: String,
    recipient_id: String,
    purpose: String,
    /// `YYYY-MM-DD`.
    expires: String,
    #[serde(default)]
    redaction: Vec<String>,
    #[serde(default)]
    testimonies: Vec<String>,
    #[serde(default)]
    evidence: Vec<String>,
    #[serde(default = "yes")]
    include_files: bool,
}

fn yes() -> bool {
    true
}

fn dossier_draft(b: DossierIn) -> Result<DossierDraft, FieldError> {
    let expires = lantern_domain::date::day("expires", &b.expires)?;
    let redaction = b
        .redaction
        .iter()
        .map(|r| Redaction::parse("redaction", r))
        .collect::<Result<BTreeSet<_>, _>>()?;
    let ids = |field: &str, raw: &[String]| -> Result<Vec<uuid::Uuid>, FieldError> {
        raw.iter()
            .enumerate()
            .map(|(i, r)| {
                uuid::Uuid::parse_str(r.trim()).map_err(|_| FieldError::new(format!("{field}[{i}]"), Reason::InvalidId))
            })
            .collect()
    };
    Ok(DossierDraft {
        title: lantern_domain::text::required_text("title", &b.title, lantern_domain::testimony::MAX_SHORT)?,
        recipient: RecipientId::parse("recipient_id", &b.recipient_id)?,
        purpose: lantern_domain::text::required_text("purpose", &b.purpose, lantern_domain::testimony::MAX_NOTE)?,
        expires,
        redaction,
        testimonies: ids("testimonies", &b.testimonies)?
            .into_iter()
            .map(TestimonyId)
            .collect(),
        evidence: ids("evidence", &b.evidence)?.into_iter().map(EvidenceId).collect(),
        include_files: b.include_files,
    })
}

async fn create_dossier(
    State(state): State<AppState>,
    auth: Authz<need::DossierManage>,
    ApiJson(b): ApiJson<DossierIn>,
) -> Result<Response, AppError> {
    let draft = dossier_draft(b).map_err(|e| first(vec![e]))?;
    let audit = auth.ctx.audit(state.clock.now());
    let d = state.db(move |s| s.create_dossier(&draft, &audit)).await?;
    Ok((StatusCode::CREATED, Json(d)).into_response())
}

async fn list_dossiers(
    State(state): State<AppState>,
    _auth: Authz<need::DossierManage>,
) -> Result<Json<Value>, AppError> {
    let d = state.db(|s| s.dossiers(None)).await?;
    Ok(Json(serde_json::json!({ "items": d })))
}

async fn dossier_bundle(
    State(state): State<AppState>,
    auth: Authz<need::DossierManage>,
    Path(id): Path<String>,
) -> Result<Response, AppError> {
    let id = parse_id("id", &id, DossierId::parse)?;
    let d = state.db(move |s| s.dossier(id)).await?.ok_or(AppError::NotFound)?;
    bundle_response(&state, &auth.ctx, d).await
}

/// The dossiers an external official may see now: shared with one of the
/// recipients the account belongs to, and not expired. Anything else is
/// "not found", so an official learns nothing of other dossiers.
pub(crate) async fn shared_with(state: &AppState, user: UserId) -> Result<Vec<Dossier>, AppError> {
    let today = state.clock.now().date();
    let recipients: Vec<RecipientId> = state
        .db(|s| s.recipients())
        .await?
        .into_iter()
        .filter(|r| r.users.contains(&user))
        .map(|r| r.id)
        .collect();
    let all = state.db(move |s| s.dossiers(Some(&recipients))).await?;
    Ok(all.into_iter().filter(|d| d.expires >= today).collect())
}

pub(crate) async fn one_shared(state: &AppState, user: UserId, raw: &str) -> Result<Dossier, AppError> {
    let id = parse_id("id", raw, DossierId::parse)?;
    shared_with(state, user)
        .await?
        .into_iter()
        .find(|d| d.id == id)
        .ok_or(AppError::NotFound)
}

async fn list_shared(
    State(state): State<AppState>,
    auth: Authz<need::DossierReceive>,
) -> Result<Json<Value>, AppError> {
    let d = shared_with(&state, auth.user.id).await?;
    let event = auth.ctx.audit(state.clock.now()).event(
        AuditAction::DossierView,
        "dossier",
        None,
        &format!("{} listed", d.len()),
    );
    state.db(move |s| s.record_audit(&event)).await?;
    Ok(Json(serde_json::json!({ "items": d })))
}

async fn get_shared(
    State(state): State<AppState>,
    auth: Authz<need::DossierReceive>,
    Path(id): Path<String>,
) -> Result<Json<Dossier>, AppError> {
    let d = one_shared(&state, auth.user.id, &id).await?;
    let event =
        auth.ctx
            .audit(state.clock.now())
            .event(AuditAction::DossierView, "dossier", Some(d.id.to_string()), "");
    state.db(move |s| s.record_audit(&event)).await?;
    Ok(Json(d))
}

async fn shared_bundle(
    State(state): State<AppState>,
    auth: Authz<need::DossierReceive>,
    Path(id): Path<String>,
) -> Result<Response, AppError> {
    let d = one_shared(&state, auth.user.id, &id).await?;
    bundle_response(&state, &auth.ctx, d).await
}

/// An evidence file to include: its path in the bundle, the stored object
/// (name, wrapped key), its SHA-256 and size.
type Included = (String, String, Vec<u8>, [u8; 32], u64);

/// What goes into the ZIP, prepared from the store.
struct Prepared {
    manifest: Manifest,
    proofs: Vec<(u64, String)>,
    checkpoint: String,
    key: String,
    /// Objects to include.
    objects: Vec<Included>,
    summary: String,
}

/// Fixes the dossier's checkpoint (signing one that covers its entry if
/// none does yet), gathers the disclosures, proofs and consistency proofs.
async fn prepare(state: &AppState, ctx: &Ctx, d: Dossier) -> Result<Prepared, AppError> {
    let signer = state
        .signer
        .get()
        .cloned()
        .ok_or_else(|| AppError::Internal("the server has no ledger signing key".into()))?;
    let now = state.clock.now();
    let audit = ctx.audit(now);
    let key = signer.verifier_key();
    state
        .db(move |s| {
            let size = match d.checkpoint_size {
                Some(size) => size,
                None => {
                    lantern_store::sign_checkpoint(s, &signer, now)?;
                    let latest = s.latest_checkpoint()?.ok_or(lantern_store::StoreError::NotFound)?;
                    s.fix_dossier_checkpoint(d.id, latest.size)?
                }
            };
            let checkpoints = s.checkpoints()?;
            let find = |size: u64| {
                checkpoints
                    .iter()
                    .find(|c| c.size == size)
                    .cloned()
                    .ok_or(lantern_store::StoreError::NotFound)
            };
            let checkpoint = find(size)?;
            let disclosures = s.dossier_disclosures(d.id, &audit)?;
            let confidential: BTreeMap<String, BTreeSet<lantern_domain::testimony::ConfidentialPart>> = d
                .testimonies
                .iter()
                .map(|t| {
                    Ok((
                        t.to_string(),
                        s.testimony(*t)?
                            .map(|x| x.confidential.into_iter().collect())
                            .unwrap_or_default(),
                    ))
                })
                .collect::<lantern_store::StoreResult<_>>()?;
            let redaction: BTreeSet<Redaction> = d.redaction.iter().copied().collect();
            let mut proofs = Vec::new();
            let mut parts = Vec::new();
            for disc in &disclosures {
                let entry =
                    lantern_ledger::entry::Entry::parse(&disc.entry).ok_or(lantern_store::StoreError::NotFound)?;
                let none = BTreeSet::new();
                let withheld = if disc.record_kind == "dossier" {
                    BTreeSet::new()
                } else {
                    withheld_fields(
                        &disc.record_kind,
                        &redaction,
                        confidential.get(&entry.record_id).unwrap_or(&none),
                    )
                };
                let mut disclosed = BTreeMap::new();
                let mut redacted = Vec::new();
                for (field, (value, salt)) in &disc.fields {
                    if withheld.contains(field.as_str()) {
                        redacted.push(field.clone());
                    } else {
                        disclosed.insert(
                            field.clone(),
                            Disclosed {
                                value: value.clone(),
                                salt: hex(salt),
                            },
                        );
                    }
                }
                parts.push(EntryPart {
                    index: disc.index,
                    disclosed,
                    redacted,
                });
                let hashes = s.ledger_inclusion_proof(disc.index, size)?;
                proofs.push((
                    disc.index,
                    TlogProof {
                        entry: disc.entry.clone(),
                        index: disc.index,
                        hashes,
                        checkpoint: checkpoint.note.clone(),
                    }
                    .format(),
                ));
            }
            let mut consistency = Vec::new();
            let mut earlier: Vec<u64> = s
                .dossiers(Some(&[d.recipient.id]))?
                .into_iter()
                .filter_map(|o| o.checkpoint_size)
                .filter(|c| *c < size)
                .collect();
            earlier.sort_unstable();
            earlier.dedup();
            for e in earlier {
                let proof = s.ledger_consistency_proof(e, size)?;
                consistency.push(ConsistencyPart {
                    checkpoint: find(e)?.note,
                    proof: proof.iter().map(|h| base64_encode(h)).collect(),
                });
            }
            let catalogue = s.vault_objects()?;
            let mut files = Vec::new();
            let mut objects = Vec::new();
            for (sha, fsize) in &d.files {
                files.push(FilePart {
                    sha256: sha.clone(),
                    size: *fsize,
                    included: d.include_files,
                });
                if d.include_files {
                    let o = catalogue
                        .iter()
                        .find(|o| o.sha256 == *sha)
                        .ok_or(lantern_store::StoreError::NotFound)?;
                    let hash = lantern_vault::objects::hash_from_hex(sha).ok_or(lantern_store::StoreError::NotFound)?;
                    objects.push((
                        bundle::file_path(sha),
                        o.name.clone(),
                        o.wrapped_key.clone(),
                        hash,
                        o.size,
                    ));
                }
            }
            let mut parts = parts.into_iter();
            let dossier_part = parts.next().ok_or(lantern_store::StoreError::NotFound)?;
            let manifest = Manifest {
                format: bundle::FORMAT.into(),
                dossier: dossier_part,
                records: parts.collect(),
                files,
                consistency,
            };
            let summary = summary_html(&d, &manifest, &key);
            Ok(Prepared {
                manifest,
                proofs,
                checkpoint: checkpoint.note,
                key: key.clone(),
                objects,
                summary,
            })
        })
        .await
}

fn base64_encode(bytes: &[u8]) -> String {
    use base64::Engine;
    base64::engine::general_purpose::STANDARD.encode(bytes)
}

fn escape(s: &str) -> String {
    s.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
        .replace('"', "&quot;")
}

/// The readable summary: what the dossier holds, the hashes, and how to
/// check it. Not part of what is verified (the manifest is).
fn summary_html(d: &Dossier, m: &Manifest, key: &str) -> String {
    let mut rows = String::new();
    for (i, r) in m.records.iter().enumerate() {
        let record = d.records.get(i);
        let shown: Vec<String> = r
            .disclosed
            .iter()
            .map(|(k, v)| {
                let text = match &v.value {
                    Value::String(s) => s.clone(),
                    other => other.to_string(),
                };
                format!("<dt>{}</dt><dd>{}</dd>", escape(k), escape(&text))
            })
            .collect();
        rows.push_str(&format!(
            "<section><h2>{} {}</h2><p>Log entry {}</p><dl>{}</dl><p>Withheld: {}</p></section>\n",
            escape(record.map(|r| r.kind.as_str()).unwrap_or("record")),
            escape(record.map(|r| r.id.as_str()).unwrap_or("")),
            r.index,
            shown.join(""),
            escape(&if r.redacted.is_empty() {
                "nothing".to_string()
            } else {
                r.redacted.join(", ")
            })
        ));
    }
    let files: String = m
        .files
        .iter()
        .map(|f| {
            format!(
                "<li><code>{}</code> ({} bytes){}</li>",
                escape(&f.sha256),
                f.size,
                if f.included { "" } else { ", hash only" }
            )
        })
        .collect();
    format!(
        "<!doctype html><html lang=\"{lang}\"><head><meta charset=\"utf-8\"><title>{title}</title></head><body>\
         <h1>{title}</h1><p>For: {recipient}<br>Purpose: {purpose}<br>Shared until: {expires}</p>\
         <p>Verify this dossier offline: <code>lantern-verify DOSSIER.zip --key {key}</code>. \
         Compare the key with the one the sending organisation published.</p>\
         {rows}<h2>Files</h2><ul>{files}</ul></body></html>\n",
        lang = escape(&d.recipient.language),
        title = escape(&d.title),
        recipient = escape(&d.recipient.name),
        purpose = escape(&d.purpose),
        expires = d.expires,
        key = escape(key),
    )
}

const README: &str = "This file is a Lantern dossier.\n\n\
Check it offline with the verifier: lantern-verify THIS-FILE.zip --key KEY\n\
(KEY is the log key the sending organisation published; the key in key.txt is\n\
the one the bundle claims.)\n\n\
To check by hand: every proofs/N.tlog-proof is a C2SP tlog-proof whose entry\n\
(the extra line) is included in the log described by checkpoint.txt, a C2SP\n\
signed note by key.txt. dossier.json shows each disclosed field with the salt\n\
of its commitment: SHA-256(\"lantern commitment v1\" 0x00, salt, canonical JSON\n\
of the value) equals the field's hex in the entry. Each files/HASH has that\n\
SHA-256 (sha256sum files/*). summary.html is for reading and is not verified.\n";

/// What the async side sends the blocking ZIP writer about one object.
enum Piece {
    /// Some content.
    Chunk(bytes::Bytes),
    /// The object is complete.
    End,
    /// Reading it failed.
    Failed(String),
}

/// Reads one object at a time from the async side: `Ok(0)` at its end.
struct ChannelReader {
    rx: tokio::sync::mpsc::Receiver<Piece>,
    pending: bytes::Bytes,
}

impl Read for ChannelReader {
    fn read(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
        while self.pending.is_empty() {
            match self.rx.blocking_recv() {
                Some(Piece::Chunk(c)) => self.pending = c,
                Some(Piece::End) => return Ok(0),
                Some(Piece::Failed(e)) => return Err(std::io::Error::other(e)),
                None => return Err(std::io::Error::other("the object stream ended early")),
            }
        }
        let n = buf.len().min(self.pending.len());
        buf[..n].copy_from_slice(&self.pending.split_to(n));
        Ok(n)
    }
}

/// Builds the bundle into an unlinked temporary file (so no copy of
/// decrypted evidence stays on disk after the download) and streams it.
pub(crate) async fn bundle_response(state: &AppState, ctx: &Ctx, d: Dossier) -> Result<Response, AppError> {
    let name = format!("dossier-{}.zip", d.id);
    let mut p = prepare(state, ctx, d).await?;
    let objects = std::mem::take(&mut p.objects);
    let path = std::env::temp_dir().join(format!("lantern-bundle-{}", uuid::Uuid::now_v7()));
    let mut options = std::fs::OpenOptions::new();
    options.read(true).write(true).create_new(true);
    #[cfg(unix)]
    {
        use std::os::unix::fs::OpenOptionsExt;
        options.mode(0o600);
    }
    let file = options.open(&path).map_err(|e| AppError::Internal(e.to_string()))?;
    let _ = std::fs::remove_file(&path);
    let (tx, rx) = tokio::sync::mpsc::channel::<Piece>(16);
    let sizes: Vec<(String, u64)> = objects.iter().map(|o| (o.0.clone(), o.4)).collect();
    let writer = tokio::task::spawn_blocking(move || -> std::io::Result<std::fs::File> {
        let mut w = BundleWriter::new(file);
        w.add(
            bundle::MANIFEST,
            &serde_json::to_vec_pretty(&p.manifest).map_err(std::io::Error::other)?,
        )?;
        w.add(bundle::CHECKPOINT, p.checkpoint.as_bytes())?;
        w.add(bundle::KEY, format!("{}\n", p.key).as_bytes())?;
        for (index, text) in &p.proofs {
            w.add(&bundle::proof_path(*index), text.as_bytes())?;
        }
        w.add("summary.html", p.summary.as_bytes())?;
        w.add("README.txt", README.as_bytes())?;
        let mut reader = ChannelReader {
            rx,
            pending: bytes::Bytes::new(),
        };
        for (path, size) in &sizes {
            let (_, written) = w.add_stream(path, *size, &mut reader)?;
            if written != *size {
                return Err(std::io::Error::other(format!(
                    "{path}: {written} bytes, {size} expected"
                )));
            }
        }
        w.finish()
    });
    for (_, object, wrapped, sha, _) in &objects {
        match state.vault.read(object, wrapped, *sha).await {
            Ok(mut stream) => {
                while let Some(chunk) = stream.next().await {
                    let piece = match chunk {
                        Ok(c) => Piece::Chunk(c),
                        Err(e) => Piece::Failed(e.to_string()),
                    };
                    if tx.send(piece).await.is_err() {
                        break;
                    }
                }
                let _ = tx.send(Piece::End).await;
            }
            Err(e) => {
                let _ = tx.send(Piece::Failed(e.to_string())).await;
                break;
            }
        }
    }
    drop(tx);
    let mut file = writer
        .await
        .map_err(|e| AppError::Internal(e.to_string()))?
        .map_err(|e| AppError::Internal(e.to_string()))?;
    file.seek(SeekFrom::Start(0))
        .map_err(|e| AppError::Internal(e.to_string()))?;
    let length = file.metadata().map(|m| m.len()).unwrap_or(0);
    let stream = futures_util::stream::unfold(Some(file), |file| async move {
        let mut file = file?;
        let read = tokio::task::spawn_blocking(move || {
            let mut buf = vec![0u8; 1 << 20];
            let n = file.read(&mut buf)?;
            buf.truncate(n);
            Ok::<_, std::io::Error>((buf, file))
        })
        .await;
        match read {
            Ok(Ok((buf, _))) if buf.is_empty() => None,
            Ok(Ok((buf, file))) => Some((Ok::<_, std::io::Error>(bytes::Bytes::from(buf)), Some(file))),
            Ok(Err(e)) => Some((Err(e), None)),
            Err(e) => Some((Err(std::io::Error::other(e.to_string())), None)),
        }
    });
    Ok((
        [
            (header::CONTENT_TYPE, "application/zip".to_string()),
            (header::CONTENT_LENGTH, length.to_string()),
            (header::CONTENT_DISPOSITION, format!("attachment; filename=\"{name}\"")),
            (header::CACHE_CONTROL, "private, no-store".to_string()),
        ],
        Body::from_stream(stream),
    )
        .into_response())
}
