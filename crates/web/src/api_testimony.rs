//! The JSON API of testimonies, events, recipients and dossiers
//! (`/api/v1/events`, `/testimonies…`, `/recipients`, `/dossiers…`, and for
//! external officials `/shared-dossiers…`), and the building of a dossier's
//! bundle ([`lantern_ledger::bundle`]).

use std::collections::{BTreeMap, BTreeSet};

use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use axum::{Json, Router};
use lantern_domain::audit::AuditAction;
use lantern_domain::evidence::EvidenceId;
use lantern_domain::testimony::{
    DossierDraft, DossierId, EventDraft, RecipientId, RecipientKind, Redaction, ShareDecision, TestimonyDraft,
    TestimonyId,
};
use lantern_domain::user::UserId;
use lantern_domain::{FieldError, Reason};
use lantern_store::{Dossier, NewShareDecision, PageRequest};
use serde::Deserialize;
use serde_json::Value;

use crate::api::ApiJson;
use crate::authz::{need, Authz};
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

#[utoipa::path(get, path = "/act-types", tag = "testimonies",
    responses((status = 200, description = "`{items: [{code, labels, built_in}]}`"), (status = 403, body = crate::api::ErrorBody)))]
pub(crate) async fn list_act_types(
    State(state): State<AppState>,
    _auth: Authz<need::TestimonyRead>,
) -> Result<Json<Value>, AppError> {
    let types = state.db(|s| s.act_types()).await?;
    Ok(Json(serde_json::json!({ "items": types })))
}

/// A full-text search: `q`, and at most `limit` results (default 20).
#[derive(Deserialize, utoipa::IntoParams)]
pub(crate) struct SearchIn {
    #[serde(default)]
    q: String,
    #[serde(default)]
    limit: Option<usize>,
}

/// Testimonies and evidence records holding every word of `q`, in any
/// script, within what the caller's role may read; `complete` is false
/// while the index is still being built after a start.
#[utoipa::path(get, path = "/search", params(SearchIn), tag = "testimonies",
    responses((status = 200, description = "`{items: [{kind, id, title, detail, href, score}], complete}`"), (status = 403, body = crate::api::ErrorBody)))]
pub(crate) async fn search(
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
#[derive(Deserialize, utoipa::ToSchema)]
pub(crate) struct ActTypeIn {
    code: String,
    labels: BTreeMap<String, String>,
}

#[utoipa::path(post, path = "/act-types", request_body = ActTypeIn, tag = "testimonies",
    responses((status = 201, description = "the act type"), (status = 422, body = crate::api::ErrorBody), (status = 403, body = crate::api::ErrorBody)))]
pub(crate) async fn add_act_type(
    State(state): State<AppState>,
    auth: Authz<need::VocabularyManage>,
    ApiJson(b): ApiJson<ActTypeIn>,
) -> Result<Response, AppError> {
    let audit = auth.ctx.audit(state.clock.now());
    let t = state.db(move |s| s.add_act_type(&b.code, &b.labels, &audit)).await?;
    Ok((StatusCode::CREATED, Json(t)).into_response())
}

/// An event: dates as `YYYY`, `YYYY-MM`, `YYYY-MM-DD` or `YYYY..YYYY`.
#[derive(Deserialize, utoipa::ToSchema)]
pub(crate) struct EventIn {
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

#[utoipa::path(get, path = "/events", tag = "testimonies",
    responses((status = 200, description = "`{items: [event]}`; the exact place only for documenters"), (status = 403, body = crate::api::ErrorBody)))]
pub(crate) async fn list_events(
    State(state): State<AppState>,
    auth: Authz<need::TestimonyRead>,
) -> Result<Json<Value>, AppError> {
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
#[utoipa::path(get, path = "/events/{id}/corroboration", tag = "testimonies",
    responses((status = 200, description = "the event, its accounts, their dependences and groups, likely duplicate events"), (status = 404, body = crate::api::ErrorBody), (status = 403, body = crate::api::ErrorBody)))]
pub(crate) async fn event_corroboration(
    State(state): State<AppState>,
    auth: Authz<need::TestimonyConfidential>,
    Path(id): Path<String>,
) -> Result<Json<crate::pages::testimonies::EventView>, AppError> {
    let id = parse_id("id", &id, lantern_domain::testimony::EventId::parse)?;
    Ok(Json(
        crate::pages::testimonies::event_view(&state, &auth.ctx, id).await?,
    ))
}

#[utoipa::path(post, path = "/events", request_body = EventIn, tag = "testimonies",
    responses((status = 201, description = "the event"), (status = 422, body = crate::api::ErrorBody), (status = 403, body = crate::api::ErrorBody)))]
pub(crate) async fn create_event(
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

#[utoipa::path(post, path = "/testimonies", tag = "testimonies",
    request_body(content = serde_json::Value, description = "`{witness, pseudonym, given_on, language, narrative, events, acts, sources, evidence, reliability, reliability_note, confidential}` (see docs/api.md)"),
    responses((status = 201, description = "the testimony's summary"), (status = 422, body = crate::api::ErrorBody), (status = 403, body = crate::api::ErrorBody)))]
pub(crate) async fn create_testimony(
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

#[utoipa::path(get, path = "/testimonies", tag = "testimonies",
    responses((status = 200, description = "`{items: [summary], total}`"), (status = 403, body = crate::api::ErrorBody)))]
pub(crate) async fn list_testimonies(
    State(state): State<AppState>,
    _auth: Authz<need::TestimonyRead>,
) -> Result<Json<Value>, AppError> {
    let page = state.db(|s| s.testimonies(PageRequest::new(1, 200))).await?;
    Ok(Json(serde_json::json!({ "items": page.items, "total": page.total })))
}

#[utoipa::path(get, path = "/testimonies/{id}", tag = "testimonies",
    responses((status = 200, description = "`{testimony, sharing}`: witness and confidential parts only for documenters; the read is audited"), (status = 404, body = crate::api::ErrorBody), (status = 403, body = crate::api::ErrorBody)))]
pub(crate) async fn get_testimony(
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
#[derive(Deserialize, utoipa::ToSchema)]
pub(crate) struct ShareIn {
    recipient_id: String,
    /// `given`, `declined` or `withdrawn`.
    #[schema(value_type = String)]
    decision: ShareDecision,
    how: String,
    #[serde(default)]
    form: Option<String>,
}

#[utoipa::path(post, path = "/testimonies/{id}/sharing", request_body = ShareIn, tag = "testimonies",
    responses((status = 201, description = "the decision as recorded"), (status = 422, body = crate::api::ErrorBody), (status = 404, body = crate::api::ErrorBody), (status = 403, body = crate::api::ErrorBody)))]
pub(crate) async fn add_share_decision(
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
#[derive(Deserialize, utoipa::ToSchema)]
pub(crate) struct RecipientIn {
    name: String,
    kind: String,
    language: String,
    #[serde(default)]
    users: Vec<String>,
}

#[utoipa::path(get, path = "/recipients", tag = "dossiers",
    responses((status = 200, description = "`{items: [recipient]}`"), (status = 403, body = crate::api::ErrorBody)))]
pub(crate) async fn list_recipients(
    State(state): State<AppState>,
    _auth: Authz<need::DossierManage>,
) -> Result<Json<Value>, AppError> {
    let r = state.db(|s| s.recipients()).await?;
    Ok(Json(serde_json::json!({ "items": r })))
}

#[utoipa::path(post, path = "/recipients", request_body = RecipientIn, tag = "dossiers",
    responses((status = 201, description = "the recipient"), (status = 422, body = crate::api::ErrorBody), (status = 403, body = crate::api::ErrorBody)))]
pub(crate) async fn create_recipient(
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
#[derive(Deserialize, utoipa::ToSchema)]
pub(crate) struct DossierIn {
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
    events: Vec<String>,
    #[serde(default)]
    evidence: Vec<String>,
    /// Registry records: only registered witnesses of the testimonies
    /// chosen, whose identity the profile does not hide.
    #[serde(default)]
    people: Vec<String>,
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
        events: ids("events", &b.events)?
            .into_iter()
            .map(lantern_domain::testimony::EventId)
            .collect(),
        evidence: ids("evidence", &b.evidence)?.into_iter().map(EvidenceId).collect(),
        people: ids("people", &b.people)?
            .into_iter()
            .map(lantern_domain::person::PersonId)
            .collect(),
        include_files: b.include_files,
    })
}

#[utoipa::path(post, path = "/dossiers", request_body = DossierIn, tag = "dossiers",
    responses((status = 201, description = "the dossier"), (status = 422, body = crate::api::ErrorBody, description = "a field, or `not-consented` naming the testimony"), (status = 403, body = crate::api::ErrorBody)))]
pub(crate) async fn create_dossier(
    State(state): State<AppState>,
    auth: Authz<need::DossierManage>,
    ApiJson(b): ApiJson<DossierIn>,
) -> Result<Response, AppError> {
    let draft = dossier_draft(b).map_err(|e| first(vec![e]))?;
    let audit = auth.ctx.audit(state.clock.now());
    let d = state.db(move |s| s.create_dossier(&draft, &audit)).await?;
    Ok((StatusCode::CREATED, Json(d)).into_response())
}

#[utoipa::path(get, path = "/dossiers", tag = "dossiers",
    responses((status = 200, description = "`{items: [dossier]}`"), (status = 403, body = crate::api::ErrorBody)))]
pub(crate) async fn list_dossiers(
    State(state): State<AppState>,
    _auth: Authz<need::DossierManage>,
) -> Result<Json<Value>, AppError> {
    let d = state.db(|s| s.dossiers(None)).await?;
    Ok(Json(serde_json::json!({ "items": d })))
}

#[utoipa::path(get, path = "/dossiers/{id}/bundle", tag = "dossiers",
    responses((status = 200, content_type = "application/zip", description = "the bundle (see docs/ledger.md)"), (status = 404, body = crate::api::ErrorBody), (status = 403, body = crate::api::ErrorBody)))]
pub(crate) async fn dossier_bundle(
    State(state): State<AppState>,
    auth: Authz<need::DossierManage>,
    Path(id): Path<String>,
) -> Result<Response, AppError> {
    let id = parse_id("id", &id, DossierId::parse)?;
    let d = state.db(move |s| s.dossier(id)).await?.ok_or(AppError::NotFound)?;
    crate::dossier_bundle::bundle_response(&state, &auth.ctx, d).await
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

/// [`shared_with`], the listing recorded in the audit trail (page and API).
pub(crate) async fn shared_listed(
    state: &AppState,
    ctx: &crate::context::Ctx,
    user: UserId,
) -> Result<Vec<Dossier>, AppError> {
    let d = shared_with(state, user).await?;
    let event = ctx.audit(state.clock.now()).event(
        AuditAction::DossierView,
        "dossier",
        None,
        &format!("{} listed", d.len()),
    );
    state.db(move |s| s.record_audit(&event)).await?;
    Ok(d)
}

pub(crate) async fn one_shared(state: &AppState, user: UserId, raw: &str) -> Result<Dossier, AppError> {
    let id = parse_id("id", raw, DossierId::parse)?;
    shared_with(state, user)
        .await?
        .into_iter()
        .find(|d| d.id == id)
        .ok_or(AppError::NotFound)
}

#[utoipa::path(get, path = "/shared-dossiers", tag = "dossiers",
    responses((status = 200, description = "`{items: [dossier]}`: the external official's, unexpired"), (status = 403, body = crate::api::ErrorBody)))]
pub(crate) async fn list_shared(
    State(state): State<AppState>,
    auth: Authz<need::DossierReceive>,
) -> Result<Json<Value>, AppError> {
    let d = shared_listed(&state, &auth.ctx, auth.user.id).await?;
    Ok(Json(serde_json::json!({ "items": d })))
}

#[utoipa::path(get, path = "/shared-dossiers/{id}", tag = "dossiers",
    responses((status = 200, description = "the dossier"), (status = 404, body = crate::api::ErrorBody), (status = 403, body = crate::api::ErrorBody)))]
pub(crate) async fn get_shared(
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

#[utoipa::path(get, path = "/shared-dossiers/{id}/bundle", tag = "dossiers",
    responses((status = 200, content_type = "application/zip", description = "the bundle"), (status = 404, body = crate::api::ErrorBody), (status = 403, body = crate::api::ErrorBody)))]
pub(crate) async fn shared_bundle(
    State(state): State<AppState>,
    auth: Authz<need::DossierReceive>,
    Path(id): Path<String>,
) -> Result<Response, AppError> {
    let d = one_shared(&state, auth.user.id, &id).await?;
    crate::dossier_bundle::bundle_response(&state, &auth.ctx, d).await
}
