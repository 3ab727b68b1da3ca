//! The JSON API of tracing requests (`/api/v1/tracing…`), for staff. Bodies
//! go through the pages' parsers. What a family may see is never served
//! here: only the status page builds it, from `requester_view`.

use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use axum::{Json, Router};
use lantern_domain::person::PersonId;
use lantern_domain::tracing::{RequestId, RequestState};
use lantern_store::{PageRequest, RequestQuery, TracingRequest};
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};

use crate::api::{rfc3339, ApiJson, ApiQuery, ErrorBody};
use crate::authz::{need, require_transition, Authz};
use crate::error::AppError;
use crate::pages::tracing::{consent_form, request_form, sought_form};
use crate::pages::Pairs;
use crate::AppState;

/// The tracing routes, nested under `/api/v1`; a photo may be up to
/// `max_upload` bytes.
pub fn routes(max_upload: usize) -> Router<AppState> {
    Router::new()
        .route("/tracing", get(list_requests).post(file_request))
        .route("/tracing/{id}", get(get_request).put(edit_request))
        .route(
            "/tracing/{id}/photo",
            get(get_photo)
                .put(put_photo)
                .layer(axum::extract::DefaultBodyLimit::max(max_upload)),
        )
        .route("/tracing/{id}/requester", get(get_requester))
        .route("/tracing/{id}/search", post(search))
        .route("/tracing/{id}/decide", post(decide))
        .route("/tracing/{id}/state", post(move_state))
        .route("/tracing/{id}/consent", post(record_consent))
        .route("/tracing/{id}/messages", get(list_messages).post(add_message))
        .route("/tracing/{id}/messages/{message}/deliver", post(deliver_message))
        .route("/tracing/{id}/visits", get(list_visits).post(book_visit))
        .route("/visits/{id}/outcome", post(close_visit))
        .route("/visit-rooms", get(list_visit_rooms).post(create_visit_room))
        .route("/tracing-figures", get(figures))
}

fn request_id(raw: &str) -> Result<RequestId, AppError> {
    RequestId::parse("id", raw).map_err(|_| AppError::NotFound)
}

/// A candidate.
#[derive(Serialize, ToSchema)]
pub struct CandidateOut {
    person_id: String,
    name: String,
    probability: f64,
    /// `proposed`, `confirmed` or `rejected`.
    decision: String,
    /// Why the engine proposed them, as of now (absent when the person is
    /// no longer in the registry).
    why: Option<WhyOut>,
}

/// The engine's explanation of a candidate.
#[derive(Serialize, ToSchema)]
pub struct WhyOut {
    /// Each word of the best-matching name of the request.
    words: Vec<WordOut>,
    /// Each other field both sides give, with its weight in bits
    /// (`log2` of the likelihood ratio: +1 doubles the odds).
    fields: Vec<FieldOut>,
}

/// One word of the request's name and what it met.
#[derive(Serialize, ToSchema)]
pub struct WordOut {
    query: String,
    matched: Option<String>,
    /// `same`, `same-skeleton`, `same-name`, `close`, `weak` or `absent`.
    agreement: String,
}

/// One field's weight.
#[derive(Serialize, ToSchema)]
pub struct FieldOut {
    /// `sex`, `birth_date`, `birth_place`, `nationality`, `father_name`, `mother_name`.
    field: String,
    /// The level reached (`same`, `close`, `different`; for birth dates
    /// `same-day`, `same-year`, `1-year`, `2-3-years`, `4-5-years`, `further`).
    level: String,
    weight: f64,
}

/// A tracing request (the requester is read apart, audited).
#[derive(Serialize, ToSchema)]
pub struct RequestOut {
    id: String,
    reference: String,
    version: i64,
    kind: String,
    channel: String,
    state: String,
    /// The states the caller's role may move it to.
    next: Vec<String>,
    sought_names: Vec<String>,
    father_name: Option<String>,
    birth_date: Option<String>,
    birth_place: Option<String>,
    last_seen: Option<String>,
    notes: Option<String>,
    matched_person_id: Option<String>,
    /// The consent in force: scope codes, or none.
    consent_scope: Option<Vec<String>>,
    not_to_be_traced: bool,
    candidates: Vec<CandidateOut>,
    filed_at: String,
    /// The family gave a photo of the person sought (at `/tracing/{id}/photo`).
    has_photo: bool,
}

fn out(state: &AppState, r: TracingRequest, role: lantern_domain::policy::Role) -> RequestOut {
    let mut why = state.explain_candidates(&r);
    let mut scope: Option<Vec<String>> = r
        .consent
        .as_ref()
        .map(|c| c.consent.scope.iter().map(|s| s.code().to_string()).collect());
    if let Some(s) = scope.as_mut() {
        s.sort();
    }
    RequestOut {
        id: r.id.to_string(),
        reference: r.reference,
        version: r.version,
        kind: r.kind.code().into(),
        channel: r.channel.code().into(),
        state: r.state.code().into(),
        next: r
            .state
            .next()
            .into_iter()
            .filter(|s| lantern_domain::tracing::allows_transition(role, *s))
            .map(|s| s.code().to_string())
            .collect(),
        sought_names: r.sought.names,
        father_name: r.sought.father_name,
        birth_date: r.sought.birth_date,
        birth_place: r.sought.birth_place,
        last_seen: r.sought.last_seen,
        notes: r.sought.notes,
        matched_person_id: r.matched.map(|m| m.0.to_string()),
        not_to_be_traced: r.consent.as_ref().is_some_and(|c| c.consent.not_to_be_traced),
        consent_scope: scope,
        candidates: r
            .candidates
            .into_iter()
            .map(|c| CandidateOut {
                person_id: c.person.to_string(),
                name: c.name,
                probability: c.probability,
                decision: c.decision,
                why: why.iter().position(|(p, _)| *p == c.person).map(|i| {
                    let e = why.swap_remove(i).1;
                    WhyOut {
                        words: e
                            .words
                            .into_iter()
                            .map(|w| WordOut {
                                query: w.query,
                                matched: w.matched,
                                agreement: w.agreement.code().into(),
                            })
                            .collect(),
                        fields: e
                            .fields
                            .into_iter()
                            .map(|f| FieldOut {
                                field: f.field.code().into(),
                                level: f.level.into(),
                                weight: (f.weight * 10.0).round() / 10.0,
                            })
                            .collect(),
                    }
                }),
            })
            .collect(),
        filed_at: rfc3339(r.filed_at),
        has_photo: r.has_photo,
    }
}

/// List filters.
#[derive(Deserialize, IntoParams)]
pub struct RequestsParams {
    /// State code.
    #[serde(default)]
    state: String,
    /// Page (from 1).
    #[serde(default)]
    page: Option<u32>,
}

/// A request in a list.
#[derive(Serialize, ToSchema)]
pub struct RequestSummaryOut {
    id: String,
    reference: String,
    sought_name: String,
    kind: String,
    state: String,
    open_candidates: u64,
    filed_at: String,
}

/// One page of requests, oldest first.
#[derive(Serialize, ToSchema)]
pub struct RequestsPage {
    items: Vec<RequestSummaryOut>,
    page: u32,
    size: u32,
    total: u64,
}

#[utoipa::path(get, path = "/tracing", params(RequestsParams), tag = "tracing",
    responses((status = 200, body = RequestsPage), (status = 403, body = ErrorBody)))]
async fn list_requests(
    State(state): State<AppState>,
    _auth: Authz<need::TracingWork>,
    ApiQuery(p): ApiQuery<RequestsParams>,
) -> Result<Json<RequestsPage>, AppError> {
    let filter = match p.state.as_str() {
        "" => None,
        s => Some(RequestState::parse("state", s)?),
    };
    let query = RequestQuery {
        state: filter,
        page: PageRequest::new(p.page.unwrap_or(1), 50),
    };
    let page = state.db(move |s| s.tracing_requests(&query)).await?;
    Ok(Json(RequestsPage {
        items: page
            .items
            .into_iter()
            .map(|r| RequestSummaryOut {
                id: r.id.to_string(),
                reference: r.reference,
                sought_name: r.sought_name,
                kind: r.kind.code().into(),
                state: r.state.code().into(),
                open_candidates: r.open_candidates,
                filed_at: rfc3339(r.filed_at),
            })
            .collect(),
        page: page.page,
        size: page.size,
        total: page.total,
    }))
}

/// A request to file.
#[derive(Deserialize, ToSchema)]
pub struct RequestIn {
    /// `find`, `message` or `visit`.
    kind: String,
    /// `gate`, `phone`, `partner` or `public_form`.
    channel: String,
    #[serde(flatten)]
    sought: SoughtFields,
    requester_name: String,
    #[serde(default)]
    relationship: String,
    #[serde(default)]
    contact: String,
}

/// What the family knows of the person sought, as a filing or a
/// correction gives it.
#[derive(Deserialize, ToSchema)]
pub struct SoughtFields {
    /// Names of the person sought, any script and spelling (one is enough).
    names: Vec<String>,
    #[serde(default)]
    father_name: String,
    /// `1975`, `1975-03`, `1970..1975`.
    #[serde(default)]
    birth_date: String,
    #[serde(default)]
    birth_place: String,
    #[serde(default)]
    last_seen: String,
    /// Free notes.
    #[serde(default)]
    notes: String,
}

impl SoughtFields {
    /// The fields as the pages' forms name them (names one per line), for
    /// the pages' parsers.
    fn into_pairs(self) -> Pairs {
        vec![
            ("names".into(), self.names.join("\n")),
            ("father_name".into(), self.father_name),
            ("birth_date".into(), self.birth_date),
            ("birth_place".into(), self.birth_place),
            ("last_seen".into(), self.last_seen),
            ("notes".into(), self.notes),
        ]
    }
}

/// A filed request with the secret for the family, shown only here.
#[derive(Serialize, ToSchema)]
pub struct FiledOut {
    request: RequestOut,
    /// Give it to the family with the reference; only its hash is kept.
    secret: String,
}

#[utoipa::path(post, path = "/tracing", request_body = RequestIn, tag = "tracing",
    responses((status = 201, body = FiledOut), (status = 422, body = ErrorBody), (status = 403, body = ErrorBody)))]
async fn file_request(
    State(state): State<AppState>,
    auth: Authz<need::TracingWork>,
    ApiJson(b): ApiJson<RequestIn>,
) -> Result<Response, AppError> {
    let mut form: Pairs = b.sought.into_pairs();
    form.extend([
        ("kind".into(), b.kind),
        ("channel".into(), b.channel),
        ("requester_name".into(), b.requester_name),
        ("relationship".into(), b.relationship),
        ("contact".into(), b.contact),
    ]);
    let request = request_form(&form, state.clock.now().date()).map_err(AppError::Invalid)?;
    let (filed, secret) = crate::pages::tracing::file(&state, request, None, auth.ctx.audit(state.clock.now())).await?;
    let body = FiledOut {
        request: out(&state, filed, auth.user.role),
        secret,
    };
    Ok((StatusCode::CREATED, Json(body)).into_response())
}

#[utoipa::path(get, path = "/tracing/{id}", tag = "tracing",
    responses((status = 200, body = RequestOut), (status = 404, body = ErrorBody)))]
async fn get_request(
    State(state): State<AppState>,
    auth: Authz<need::TracingWork>,
    Path(id): Path<String>,
) -> Result<Json<RequestOut>, AppError> {
    let id = request_id(&id)?;
    let r = state
        .db(move |s| s.tracing_request(id))
        .await?
        .ok_or(AppError::NotFound)?;
    Ok(Json(out(&state, r, auth.user.role)))
}

/// A corrected description of the person sought (it replaces the old one).
#[derive(Deserialize, ToSchema)]
pub struct SoughtIn {
    /// The version the correction was based on.
    version: i64,
    #[serde(flatten)]
    sought: SoughtFields,
}

#[utoipa::path(put, path = "/tracing/{id}", request_body = SoughtIn, tag = "tracing",
    responses((status = 200, description = "the request after the engine searched again", body = RequestOut),
        (status = 422, body = ErrorBody, description = "a field, or `step-not-allowed` on `state` for a closed request"),
        (status = 409, body = ErrorBody, description = "changed since `version`"), (status = 404, body = ErrorBody)))]
async fn edit_request(
    State(state): State<AppState>,
    auth: Authz<need::TracingWork>,
    Path(id): Path<String>,
    ApiJson(b): ApiJson<SoughtIn>,
) -> Result<Json<RequestOut>, AppError> {
    let id = request_id(&id)?;
    let mut errors = lantern_domain::FieldErrors::new();
    let sought = sought_form(&b.sought.into_pairs(), state.clock.now().date(), &mut errors);
    if !errors.is_empty() {
        return Err(AppError::Invalid(errors));
    }
    let r = crate::pages::tracing::correct(&state, id, b.version, sought, auth.ctx.audit(state.clock.now())).await?;
    Ok(Json(out(&state, r, auth.user.role)))
}

#[utoipa::path(get, path = "/tracing/{id}/photo", tag = "tracing",
    responses((status = 200, description = "the photo of the person sought (image/jpeg or image/png)"), (status = 404, body = ErrorBody)))]
async fn get_photo(
    State(state): State<AppState>,
    _auth: Authz<need::TracingWork>,
    Path(id): Path<String>,
) -> Result<Response, AppError> {
    let id = request_id(&id)?;
    let photo = state
        .db(move |s| s.request_photo(id))
        .await?
        .ok_or(AppError::NotFound)?;
    Ok(crate::pages::photo_response(photo))
}

#[utoipa::path(put, path = "/tracing/{id}/photo", tag = "tracing",
    request_body(content = Vec<u8>, content_type = "image/jpeg", description = "a JPEG or PNG image, at most 5 MiB"),
    responses((status = 204), (status = 404, body = ErrorBody), (status = 413, body = ErrorBody), (status = 422, body = ErrorBody)))]
async fn put_photo(
    State(state): State<AppState>,
    auth: Authz<need::TracingWork>,
    Path(id): Path<String>,
    body: Result<axum::body::Bytes, axum::extract::rejection::BytesRejection>,
) -> Result<StatusCode, AppError> {
    let id = request_id(&id)?;
    let body = body.map_err(|_| AppError::PayloadTooLarge)?;
    let photo = lantern_domain::person::Photo::parse("body", body.to_vec())?;
    let audit = auth.ctx.audit(state.clock.now());
    state.db(move |s| s.set_request_photo(id, &photo, &audit)).await?;
    Ok(StatusCode::NO_CONTENT)
}

/// The requester's details.
#[derive(Serialize, ToSchema)]
pub struct RequesterOut {
    name: String,
    relationship: String,
    contact: String,
}

#[utoipa::path(get, path = "/tracing/{id}/requester", tag = "tracing",
    responses((status = 200, description = "an audited read", body = RequesterOut), (status = 404, body = ErrorBody)))]
async fn get_requester(
    State(state): State<AppState>,
    auth: Authz<need::TracingRequester>,
    Path(id): Path<String>,
) -> Result<Json<RequesterOut>, AppError> {
    let id = request_id(&id)?;
    let audit = auth.ctx.audit(state.clock.now());
    let r = state.db(move |s| s.read_requester(id, &audit)).await?;
    Ok(Json(RequesterOut {
        name: r.name,
        relationship: r.relationship,
        contact: r.contact,
    }))
}

#[utoipa::path(post, path = "/tracing/{id}/search", tag = "tracing",
    responses((status = 200, description = "the request with the engine's candidates", body = RequestOut),
        (status = 403, body = ErrorBody), (status = 422, body = ErrorBody)))]
async fn search(
    State(state): State<AppState>,
    auth: Authz<need::TracingWork>,
    Path(id): Path<String>,
) -> Result<Json<RequestOut>, AppError> {
    let id = request_id(&id)?;
    require_transition(&state, &auth, RequestState::CandidatesFound).await?;
    let r = state
        .db(move |s| s.tracing_request(id))
        .await?
        .ok_or(AppError::NotFound)?;
    // A filed request is moved to the search with its candidates.
    let found = state.candidates_for(&r.sought).await?;
    let audit = auth.ctx.audit(state.clock.now());
    let r = state.db(move |s| s.propose_candidates(id, &found, &audit)).await?;
    Ok(Json(out(&state, r, auth.user.role)))
}

/// A decision on a candidate.
#[derive(Deserialize, ToSchema)]
pub struct DecisionIn {
    person_id: String,
    /// True: the same person; false: not this person.
    confirm: bool,
}

#[utoipa::path(post, path = "/tracing/{id}/decide", request_body = DecisionIn, tag = "tracing",
    responses((status = 200, body = RequestOut), (status = 403, body = ErrorBody), (status = 409, body = ErrorBody),
        (status = 422, body = ErrorBody)))]
async fn decide(
    State(state): State<AppState>,
    auth: Authz<need::TracingWork>,
    Path(id): Path<String>,
    ApiJson(d): ApiJson<DecisionIn>,
) -> Result<Json<RequestOut>, AppError> {
    let id = request_id(&id)?;
    let person = PersonId::parse("person_id", &d.person_id)?;
    require_transition(&state, &auth, RequestState::MatchConfirmed).await?;
    let audit = auth.ctx.audit(state.clock.now());
    let r = state
        .db(move |s| s.decide_candidate(id, person, d.confirm, &audit))
        .await?;
    Ok(Json(out(&state, r, auth.user.role)))
}

/// A state to record.
#[derive(Deserialize, ToSchema)]
pub struct StateIn {
    /// The current state (a stale one is a 409 conflict).
    expected: String,
    state: String,
    #[serde(default)]
    reason: String,
}

#[utoipa::path(post, path = "/tracing/{id}/state", request_body = StateIn, tag = "tracing",
    responses((status = 200, body = RequestOut), (status = 403, body = ErrorBody), (status = 409, body = ErrorBody),
        (status = 422, body = ErrorBody)))]
async fn move_state(
    State(state): State<AppState>,
    auth: Authz<need::TracingWork>,
    Path(id): Path<String>,
    ApiJson(b): ApiJson<StateIn>,
) -> Result<Json<RequestOut>, AppError> {
    let id = request_id(&id)?;
    let mut errors = lantern_domain::FieldErrors::new();
    let expected = errors.take(RequestState::parse("expected", &b.expected));
    let to = errors.take(RequestState::parse("state", &b.state));
    let reason = Some(b.reason.trim().to_string()).filter(|r| !r.is_empty());
    let (Some(expected), Some(to), true) = (expected, to, errors.is_empty()) else {
        return Err(AppError::Invalid(errors));
    };
    require_transition(&state, &auth, to).await?;
    let audit = auth.ctx.audit(state.clock.now());
    let r = state
        .db(move |s| s.move_request(id, expected, to, reason, &audit))
        .await?;
    Ok(Json(out(&state, r, auth.user.role)))
}

/// The sought person's decision.
#[derive(Deserialize, ToSchema)]
pub struct ConsentIn {
    /// `alive_and_registered`, `location`, `contact`, `message`, `visit`; none: declined or withdrawn.
    #[serde(default)]
    scope: Vec<String>,
    #[serde(default)]
    not_to_be_traced: bool,
    /// `verbal_witnessed` or `signed_form`.
    method: String,
    /// Required for a verbal consent.
    #[serde(default)]
    witness: String,
    /// For a signed consent: the signed form, uploaded first with `POST /evidence`.
    #[serde(default)]
    form_evidence_id: String,
}

#[utoipa::path(post, path = "/tracing/{id}/consent", request_body = ConsentIn, tag = "tracing",
    responses((status = 200, body = RequestOut), (status = 403, body = ErrorBody), (status = 422, body = ErrorBody)))]
async fn record_consent(
    State(state): State<AppState>,
    auth: Authz<need::TracingWork>,
    Path(id): Path<String>,
    ApiJson(b): ApiJson<ConsentIn>,
) -> Result<Json<RequestOut>, AppError> {
    let id = request_id(&id)?;
    let mut form: Pairs = b.scope.into_iter().map(|s| ("scope".to_string(), s)).collect();
    form.push(("not_to_be_traced".into(), b.not_to_be_traced.to_string()));
    form.push(("method".into(), b.method));
    form.push(("witness".into(), b.witness));
    form.push(("form".into(), b.form_evidence_id));
    let input = consent_form(&form).map_err(AppError::Invalid)?;
    require_transition(&state, &auth, RequestState::ConsentGiven).await?;
    let audit = auth.ctx.audit(state.clock.now());
    let r = state.db(move |s| s.record_consent(id, &input, &audit)).await?;
    Ok(Json(out(&state, r, auth.user.role)))
}

/// A message between the family and the person sought.
#[derive(Serialize, ToSchema)]
pub struct MessageOut {
    id: String,
    /// `to_resident` (the family's) or `to_family` (the reply).
    direction: String,
    text: String,
    written_at: String,
    written_by: String,
    delivered_at: Option<String>,
}

fn message_out(m: lantern_store::RequestMessage) -> MessageOut {
    MessageOut {
        id: m.id.to_string(),
        direction: m.direction.code().to_string(),
        text: m.text,
        written_at: rfc3339(m.written_at),
        written_by: m.written_by,
        delivered_at: m.delivered_at.map(rfc3339),
    }
}

#[utoipa::path(get, path = "/tracing/{id}/messages", tag = "tracing",
    responses((status = 200, body = [MessageOut], description = "an audited read"), (status = 404, body = ErrorBody)))]
async fn list_messages(
    State(state): State<AppState>,
    auth: Authz<need::TracingWork>,
    Path(id): Path<String>,
) -> Result<Json<Vec<MessageOut>>, AppError> {
    let id = request_id(&id)?;
    let audit = auth.ctx.audit(state.clock.now());
    let list = state.db(move |s| s.read_messages(id, &audit)).await?;
    Ok(Json(list.into_iter().map(message_out).collect()))
}

/// A message to record.
#[derive(Deserialize, ToSchema)]
pub struct MessageIn {
    /// `to_resident` (the family's news; waits for consent) or `to_family`
    /// (the reply; only with consent to messages).
    direction: String,
    text: String,
}

#[utoipa::path(post, path = "/tracing/{id}/messages", request_body = MessageIn, tag = "tracing",
    responses((status = 201, body = MessageOut), (status = 422, body = ErrorBody, description = "not-consented on direction: no reply without consent")))]
async fn add_message(
    State(state): State<AppState>,
    auth: Authz<need::TracingWork>,
    Path(id): Path<String>,
    ApiJson(b): ApiJson<MessageIn>,
) -> Result<Response, AppError> {
    let id = request_id(&id)?;
    let direction = lantern_domain::tracing::MessageDirection::parse("direction", &b.direction)?;
    let audit = auth.ctx.audit(state.clock.now());
    let m = state.db(move |s| s.add_message(id, direction, &b.text, &audit)).await?;
    Ok((StatusCode::CREATED, Json(message_out(m))).into_response())
}

#[utoipa::path(post, path = "/tracing/{id}/messages/{message}/deliver", tag = "tracing",
    responses((status = 200, body = MessageOut), (status = 422, body = ErrorBody, description = "not-consented: the person has not agreed to messages")))]
async fn deliver_message(
    State(state): State<AppState>,
    auth: Authz<need::TracingWork>,
    Path((id, message)): Path<(String, String)>,
) -> Result<Json<MessageOut>, AppError> {
    let id = request_id(&id)?;
    let message = lantern_domain::tracing::MessageId::parse("message_id", &message).map_err(|_| AppError::NotFound)?;
    require_transition(&state, &auth, RequestState::MessageDelivered).await?;
    let audit = auth.ctx.audit(state.clock.now());
    let m = state.db(move |s| s.deliver_message(id, message, &audit)).await?;
    Ok(Json(message_out(m)))
}

/// A visiting room.
#[derive(Serialize, ToSchema)]
pub struct VisitRoomOut {
    id: String,
    site_id: String,
    site: String,
    name: String,
    capacity: u32,
    /// Weekly opening hours such as `thu 09:00-12:00` (UTC); none: always open.
    hours: Vec<String>,
}

fn visit_room_out(r: lantern_store::VisitRoom) -> VisitRoomOut {
    VisitRoomOut {
        id: r.id.to_string(),
        site_id: r.site_id.to_string(),
        site: r.site,
        name: r.name,
        capacity: r.capacity,
        hours: r.hours.iter().map(|w| w.to_text()).collect(),
    }
}

#[utoipa::path(get, path = "/visit-rooms", tag = "tracing", responses((status = 200, body = [VisitRoomOut])))]
async fn list_visit_rooms(
    State(state): State<AppState>,
    _auth: Authz<need::TracingWork>,
) -> Result<Json<Vec<VisitRoomOut>>, AppError> {
    Ok(Json(
        state
            .db(|s| s.visit_rooms())
            .await?
            .into_iter()
            .map(visit_room_out)
            .collect(),
    ))
}

/// A visiting room to add.
#[derive(Deserialize, ToSchema)]
pub struct VisitRoomIn {
    site_id: String,
    name: String,
    capacity: u32,
    /// `mon 09:00-12:00; thu 14:00-17:00` (UTC); empty: always open.
    #[serde(default)]
    hours: String,
}

#[utoipa::path(post, path = "/visit-rooms", request_body = VisitRoomIn, tag = "tracing",
    responses((status = 201, body = VisitRoomOut), (status = 422, body = ErrorBody)))]
async fn create_visit_room(
    State(state): State<AppState>,
    auth: Authz<need::SiteManage>,
    ApiJson(b): ApiJson<VisitRoomIn>,
) -> Result<Response, AppError> {
    let site = lantern_domain::person::SiteId::parse("site_id", &b.site_id)?;
    let hours = lantern_domain::interview::windows("hours", &b.hours)?;
    let audit = auth.ctx.audit(state.clock.now());
    let room = state
        .db(move |s| s.create_visit_room(site, &b.name, b.capacity, &hours, &audit))
        .await?;
    Ok((StatusCode::CREATED, Json(visit_room_out(room))).into_response())
}

/// A family visit.
#[derive(Serialize, ToSchema)]
pub struct VisitOut {
    id: String,
    room_id: String,
    room: String,
    site: String,
    starts_at: String,
    ends_at: String,
    visitors: Vec<String>,
    /// `scheduled`, `held`, `refused`, `no_show` or `blocked`.
    status: String,
    outcome_by: Option<String>,
    outcome_reason: Option<String>,
}

fn visit_out(v: lantern_store::Visit) -> VisitOut {
    VisitOut {
        id: v.id.to_string(),
        room_id: v.room.to_string(),
        room: v.room_name,
        site: v.site,
        starts_at: rfc3339(v.slot.start),
        ends_at: rfc3339(v.slot.end),
        visitors: v.visitors,
        status: v.status.code().to_string(),
        outcome_by: v.outcome_by,
        outcome_reason: v.outcome_reason,
    }
}

#[utoipa::path(get, path = "/tracing/{id}/visits", tag = "tracing",
    responses((status = 200, body = [VisitOut], description = "an audited read (visitors' names)"), (status = 404, body = ErrorBody)))]
async fn list_visits(
    State(state): State<AppState>,
    auth: Authz<need::TracingWork>,
    Path(id): Path<String>,
) -> Result<Json<Vec<VisitOut>>, AppError> {
    let id = request_id(&id)?;
    let audit = auth.ctx.audit(state.clock.now());
    let list = state.db(move |s| s.read_visits(id, &audit)).await?;
    Ok(Json(list.into_iter().map(visit_out).collect()))
}

/// A visit to book: `date` (YYYY-MM-DD), `time` (HH:MM, UTC), `minutes`.
#[derive(Deserialize, ToSchema)]
pub struct VisitIn {
    room_id: String,
    date: String,
    time: String,
    minutes: String,
    visitors: Vec<String>,
}

#[utoipa::path(post, path = "/tracing/{id}/visits", request_body = VisitIn, tag = "tracing",
    responses((status = 201, body = VisitOut), (status = 422, body = ErrorBody, description = "not-consented, unavailable, double-booked, too-long (capacity)")))]
async fn book_visit(
    State(state): State<AppState>,
    auth: Authz<need::TracingWork>,
    Path(id): Path<String>,
    ApiJson(b): ApiJson<VisitIn>,
) -> Result<Response, AppError> {
    let id = request_id(&id)?;
    let form: Pairs = vec![
        ("room_id".into(), b.room_id),
        ("date".into(), b.date),
        ("time".into(), b.time),
        ("minutes".into(), b.minutes),
        ("visitors".into(), b.visitors.join("\n")),
    ];
    let visit = crate::pages::tracing::visit_form(id, &form).map_err(AppError::Invalid)?;
    require_transition(&state, &auth, RequestState::VisitScheduled).await?;
    let audit = auth.ctx.audit(state.clock.now());
    let v = state.db(move |s| s.book_visit(&visit, &audit)).await?;
    Ok((StatusCode::CREATED, Json(visit_out(v))).into_response())
}

/// What became of a visit.
#[derive(Deserialize, ToSchema)]
pub struct VisitOutcomeIn {
    /// `held`, `refused`, `no_show` or `blocked`.
    status: String,
    /// Who declined or blocked it (required for `refused` and `blocked`).
    #[serde(default)]
    outcome_by: Option<String>,
    /// The reason given (required for `refused` and `blocked`).
    #[serde(default)]
    reason: Option<String>,
}

#[utoipa::path(post, path = "/visits/{id}/outcome", request_body = VisitOutcomeIn, tag = "tracing",
    responses((status = 200, body = VisitOut), (status = 422, body = ErrorBody)))]
async fn close_visit(
    State(state): State<AppState>,
    auth: Authz<need::TracingWork>,
    Path(id): Path<String>,
    ApiJson(b): ApiJson<VisitOutcomeIn>,
) -> Result<Json<VisitOut>, AppError> {
    let visit = lantern_domain::tracing::VisitId::parse("id", &id).map_err(|_| AppError::NotFound)?;
    let status = lantern_domain::tracing::VisitStatus::parse("status", &b.status)?;
    require_transition(&state, &auth, RequestState::VisitHeld).await?;
    let audit = auth.ctx.audit(state.clock.now());
    let v = state
        .db(move |s| s.close_visit(visit, status, b.outcome_by, b.reason, &audit))
        .await?;
    Ok(Json(visit_out(v)))
}

/// Figures of the tracing work (aggregates only).
#[derive(Serialize, ToSchema)]
pub struct FiguresOut {
    /// Open requests by state code.
    open_by_state: Vec<(String, u64)>,
    /// Requests that reached a first contact (message delivered or visit held).
    contacted: u64,
    median_days_to_contact: Option<f64>,
    p90_days_to_contact: Option<f64>,
    /// The oldest open requests: reference, state, filed at.
    oldest_open: Vec<(String, String, String)>,
    /// Visits held per week (the Monday that starts it), the last 12 weeks.
    visits_held_per_week: Vec<(String, u64)>,
}

#[utoipa::path(get, path = "/tracing-figures", tag = "tracing", responses((status = 200, body = FiguresOut)))]
async fn figures(State(state): State<AppState>, _auth: Authz<need::TracingWork>) -> Result<Json<FiguresOut>, AppError> {
    let now = state.clock.now();
    let f = state.db(move |s| s.tracing_figures(now)).await?;
    Ok(Json(FiguresOut {
        open_by_state: f
            .open_by_state
            .iter()
            .map(|(s, n)| (s.code().to_string(), *n))
            .collect(),
        contacted: f.contacted,
        median_days_to_contact: f.median_days_to_contact,
        p90_days_to_contact: f.p90_days_to_contact,
        oldest_open: f
            .oldest_open
            .into_iter()
            .map(|(r, s, at)| (r, s.code().to_string(), rfc3339(at)))
            .collect(),
        visits_held_per_week: f
            .visits_held_per_week
            .into_iter()
            .map(|(d, n)| (d.to_string(), n))
            .collect(),
    }))
}
