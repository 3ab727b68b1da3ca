//! Tracing requests: filing at the gate or by phone, the search with the
//! matching engine, the caseworker's decision, consent, and the family's
//! status page (reference and secret, no account).
//!
//! What a family sees is built only from
//! [`lantern_domain::tracing::requester_view`].

use askama::Template;
use axum::extract::{Path, Query, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Redirect, Response};
use axum::Form;
use lantern_domain::person::{PersonId, Photo};
use lantern_domain::tracing::{
    requester_view, Channel, Consent, ConsentMethod, MessageDirection, MessageId, RequestId, RequestKind, RequestState,
    RequesterView, Scope, SoughtFacts, VisitId, VisitRoomId, VisitStatus,
};
use lantern_domain::{FieldError, FieldErrors, Reason};
use lantern_store::{
    ConsentInput, NewTracingRequest, Page as ResultPage, PageRequest, RequestMessage, RequestQuery, RequestSummary,
    Requester, SoughtPerson, TracingRequest,
};
use serde::Deserialize;

use super::{field, no_errors, Pairs};
use crate::authz::{need, require_transition, Authz};
use crate::context::Ctx;
use crate::error::AppError;
use crate::security::{random_token, token_hash};
use crate::view::{render, render_status, Page};
use crate::AppState;

fn request_id(raw: &str) -> Result<RequestId, AppError> {
    RequestId::parse("id", raw).map_err(|_| AppError::NotFound)
}

fn optional(errors: &mut FieldErrors, name: &str, raw: &str, max: usize) -> Option<String> {
    let t = raw.trim();
    if t.is_empty() {
        return None;
    }
    errors.take(lantern_domain::text::required_text(name, t, max))
}

/// A request as the filing form gives it; every refused field at once.
/// Incomplete requests are accepted with what is known (one name is enough).
pub(crate) fn request_form(form: &Pairs, today: time::Date) -> Result<NewTracingRequest, FieldErrors> {
    let mut errors = FieldErrors::new();
    let kind = errors.take(RequestKind::parse("kind", field(form, "kind")));
    let channel = errors.take(Channel::parse("channel", field(form, "channel")));
    let sought = sought_form(form, today, &mut errors);
    let requester = Requester {
        name: errors
            .take(lantern_domain::text::required_text(
                "requester_name",
                field(form, "requester_name"),
                200,
            ))
            .unwrap_or_default(),
        relationship: optional(&mut errors, "relationship", field(form, "relationship"), 100).unwrap_or_default(),
        contact: optional(&mut errors, "contact", field(form, "contact"), 500).unwrap_or_default(),
    };
    match (kind, channel, errors.is_empty()) {
        (Some(kind), Some(channel), true) => Ok(NewTracingRequest {
            kind,
            channel,
            requester,
            sought,
        }),
        _ => Err(errors),
    }
}

/// What the family knows of the person sought, as the filing and the
/// correction forms give it (names one per line); refusals go to `errors`.
pub(crate) fn sought_form(form: &Pairs, today: time::Date, errors: &mut FieldErrors) -> SoughtPerson {
    let names: Vec<String> = field(form, "names")
        .lines()
        .map(str::trim)
        .filter(|n| !n.is_empty())
        .map(str::to_string)
        .collect();
    if names.is_empty() {
        errors.push("names", Reason::Required);
    }
    for n in &names {
        if errors
            .take(lantern_domain::text::required_text("names", n, 200))
            .is_none()
        {
            break;
        }
    }
    let birth_date = match field(form, "birth_date").trim() {
        "" => None,
        raw => errors
            .take(lantern_domain::date::FuzzyDate::parse("birth_date", raw, today))
            .map(|_| raw.to_string()),
    };
    SoughtPerson {
        names,
        father_name: optional(errors, "father_name", field(form, "father_name"), 200),
        birth_date,
        birth_place: optional(errors, "birth_place", field(form, "birth_place"), 200),
        last_seen: optional(errors, "last_seen", field(form, "last_seen"), 500),
        notes: optional(errors, "notes", field(form, "notes"), 5_000),
    }
}

/// The form fields that reproduce `sought`, for the correction form.
fn sought_pairs(sought: &SoughtPerson) -> Pairs {
    let s = |v: &Option<String>| v.clone().unwrap_or_default();
    vec![
        ("names".into(), sought.names.join("\n")),
        ("father_name".into(), s(&sought.father_name)),
        ("birth_date".into(), s(&sought.birth_date)),
        ("birth_place".into(), s(&sought.birth_place)),
        ("last_seen".into(), s(&sought.last_seen)),
        ("notes".into(), s(&sought.notes)),
    ]
}

#[derive(Template)]
#[template(path = "tracing_edit.html")]
struct EditPage {
    c: Page,
    r: TracingRequest,
    errors: FieldErrors,
    form: Pairs,
    /// Someone changed the request meanwhile: its current description is
    /// shown beside what was typed, which a second save applies.
    conflict: bool,
}

impl EditPage {
    fn value(&self, name: &str) -> &str {
        field(&self.form, name)
    }
}

/// The photo of the person sought (sealed at rest, never cached), for staff.
pub(crate) async fn photo(
    State(state): State<AppState>,
    _auth: Authz<need::TracingWork>,
    Path(id): Path<String>,
) -> Result<Response, AppError> {
    let id = request_id(&id)?;
    let photo = state
        .db(move |s| s.request_photo(id))
        .await?
        .ok_or(AppError::NotFound)?;
    Ok(super::photo_response(photo))
}

/// Adds or replaces the photo of the person sought.
pub(crate) async fn upload_photo(
    State(state): State<AppState>,
    auth: Authz<need::TracingWork>,
    Path(id): Path<String>,
    req: axum::extract::Request,
) -> Result<Response, AppError> {
    let id = request_id(&id)?;
    let (_, bytes) = super::form_with_photo(req).await?;
    let photo = match Photo::parse("photo", bytes.unwrap_or_default()) {
        Ok(p) => p,
        Err(e) => return view_page(&state, &auth, id, None, e.into()).await,
    };
    let audit = auth.ctx.audit(state.clock.now());
    state.db(move |s| s.set_request_photo(id, &photo, &audit)).await?;
    Ok(Redirect::to(&format!("/tracing/{id}")).into_response())
}

/// The form that corrects what is known of the person sought.
pub(crate) async fn edit_form(
    State(state): State<AppState>,
    auth: Authz<need::TracingWork>,
    Path(id): Path<String>,
) -> Result<Response, AppError> {
    let id = request_id(&id)?;
    let r = state
        .db(move |s| s.tracing_request(id))
        .await?
        .ok_or(AppError::NotFound)?;
    let mut form = sought_pairs(&r.sought);
    form.push(("version".into(), r.version.to_string()));
    Ok(render(&EditPage {
        c: Page::new(&state, &auth.ctx, "tracing-edit"),
        r,
        errors: no_errors(),
        form,
        conflict: false,
    }))
}

/// Saves a correction and runs the engine again on the new description; a
/// refusal shows the form again with what was typed.
pub(crate) async fn edit(
    State(state): State<AppState>,
    auth: Authz<need::TracingWork>,
    Path(id): Path<String>,
    Form(form): Form<Pairs>,
) -> Result<Response, AppError> {
    let id = request_id(&id)?;
    let mut errors = FieldErrors::new();
    let sought = sought_form(&form, state.clock.now().date(), &mut errors);
    let version = errors.take(
        field(&form, "version")
            .parse::<i64>()
            .map_err(|_| FieldError::new("version", Reason::InvalidNumber)),
    );
    let mut conflict = false;
    if let (Some(version), true) = (version, errors.is_empty()) {
        match correct(&state, id, version, sought, auth.ctx.audit(state.clock.now())).await {
            Ok(_) => return Ok(Redirect::to(&format!("/tracing/{id}")).into_response()),
            Err(AppError::Invalid(e)) => errors = e,
            Err(AppError::Conflict) => conflict = true,
            Err(e) => return Err(e),
        }
    }
    let r = state
        .db(move |s| s.tracing_request(id))
        .await?
        .ok_or(AppError::NotFound)?;
    let mut form = form;
    if conflict {
        form.retain(|(k, _)| k != "version");
        form.push(("version".into(), r.version.to_string()));
    }
    let status = if conflict {
        StatusCode::CONFLICT
    } else {
        super::form_status(&errors)
    };
    Ok(render_status(
        status,
        &EditPage {
            c: Page::new(&state, &auth.ctx, "tracing-edit"),
            r,
            errors,
            form,
            conflict,
        },
    ))
}

/// Saves a correction of the person sought and runs the matching engine
/// again, as after a filing.
pub(crate) async fn correct(
    state: &AppState,
    id: RequestId,
    version: i64,
    sought: SoughtPerson,
    audit: lantern_store::AuditContext,
) -> Result<TracingRequest, AppError> {
    let edited = state.db(move |s| s.edit_request(id, version, &sought, &audit)).await?;
    state.match_request(id, &edited.sought).await;
    Ok(state.db(move |s| s.tracing_request(id)).await?.unwrap_or(edited))
}

/// The list's filter.
#[derive(Debug, Default, Deserialize)]
pub(crate) struct ListParams {
    #[serde(default)]
    state: String,
    #[serde(default)]
    page: Option<u32>,
}

#[derive(Template)]
#[template(path = "tracing_list.html")]
struct ListPage {
    c: Page,
    result: ResultPage<RequestSummary>,
    figures: lantern_store::TracingFigures,
    states: Vec<&'static str>,
    state: String,
    query_string: String,
}

impl ListPage {
    fn days(&self, d: &Option<f64>) -> String {
        d.map_or_else(|| "–".to_string(), |d| format!("{d:.1}"))
    }
}

pub(crate) async fn list(
    State(state): State<AppState>,
    auth: Authz<need::TracingWork>,
    Query(p): Query<ListParams>,
) -> Result<Response, AppError> {
    let filter = match p.state.as_str() {
        "" => None,
        s => Some(RequestState::parse("state", s)?),
    };
    let query = RequestQuery {
        state: filter,
        page: PageRequest::new(p.page.unwrap_or(1), 50),
    };
    let result = state.db(move |s| s.tracing_requests(&query)).await?;
    let now = state.clock.now();
    let figures = state.db(move |s| s.tracing_figures(now)).await?;
    Ok(render(&ListPage {
        c: Page::new(&state, &auth.ctx, "tracing-title"),
        result,
        figures,
        states: RequestState::ALL.iter().map(|s| s.code()).collect(),
        query_string: form_urlencoded::Serializer::new(String::new())
            .append_pair("state", &p.state)
            .finish(),
        state: p.state,
    }))
}

#[derive(Template)]
#[template(path = "tracing_new.html")]
struct NewPage {
    c: Page,
    /// The public form (no account): no channel, the family's own words.
    public: bool,
    kinds: Vec<&'static str>,
    channels: Vec<&'static str>,
    errors: FieldErrors,
    form: Pairs,
}

impl NewPage {
    fn value(&self, name: &str) -> &str {
        field(&self.form, name)
    }
}

fn new_page(state: &AppState, ctx: &Ctx, public: bool, errors: FieldErrors, form: Pairs) -> Response {
    render_status(
        super::form_status(&errors),
        &NewPage {
            c: Page::new(state, ctx, if public { "request-public-title" } else { "tracing-new" }),
            public,
            kinds: RequestKind::ALL.iter().map(|k| k.code()).collect(),
            channels: Channel::ALL.iter().map(|k| k.code()).collect(),
            errors,
            form,
        },
    )
}

pub(crate) async fn new_form(State(state): State<AppState>, auth: Authz<need::TracingWork>) -> Response {
    new_page(&state, &auth.ctx, false, no_errors(), Vec::new())
}

#[derive(Template)]
#[template(path = "tracing_filed.html")]
struct FiledPage {
    c: Page,
    /// The request, for staff (the public page links nowhere).
    id: Option<RequestId>,
    reference: String,
    secret: String,
}

pub(crate) async fn create(
    State(state): State<AppState>,
    auth: Authz<need::TracingWork>,
    req: axum::extract::Request,
) -> Result<Response, AppError> {
    let (form, photo) = super::form_with_photo(req).await?;
    let (request, photo) = match checked_filing(&form, photo, state.clock.now().date()) {
        Ok(r) => r,
        Err(errors) => return Ok(new_page(&state, &auth.ctx, false, errors, form)),
    };
    let (filed, secret) = file(&state, request, photo, auth.ctx.audit(state.clock.now())).await?;
    Ok(render(&FiledPage {
        c: Page::new(&state, &auth.ctx, "tracing-filed"),
        id: Some(filed.id),
        reference: filed.reference,
        secret,
    }))
}

/// Files a request and runs the matching engine on it; returns the request
/// as the engine left it and the secret the family follows it with (shown
/// once; only its hash is kept).
pub(crate) async fn file(
    state: &AppState,
    request: NewTracingRequest,
    photo: Option<Photo>,
    audit: lantern_store::AuditContext,
) -> Result<(TracingRequest, String), AppError> {
    let secret = random_token()[..16].to_string();
    let hash = token_hash(&secret);
    let filed = state
        .db(move |s| s.file_request_with_photo(&request, photo.as_ref(), &hash, &audit))
        .await?;
    state.match_request(filed.id, &filed.sought).await;
    let id = filed.id;
    let now = state.db(move |s| s.tracing_request(id)).await?.unwrap_or(filed);
    Ok((now, secret))
}

/// A filing with its photo checked: every refused field at once.
fn checked_filing(
    form: &Pairs,
    photo: Option<Vec<u8>>,
    today: time::Date,
) -> Result<(NewTracingRequest, Option<Photo>), FieldErrors> {
    let mut errors = FieldErrors::new();
    let photo = photo.and_then(|b| errors.take(Photo::parse("photo", b)));
    match request_form(form, today) {
        Ok(r) if errors.is_empty() => Ok((r, photo)),
        Ok(_) => Err(errors),
        Err(mut more) => {
            more.0.extend(errors.0);
            Err(more)
        }
    }
}

/// The throttle key of the public form as a whole.
const PUBLIC_FORM: &str = "public-form";

/// The public request form: families file without an account.
pub(crate) async fn public_form(State(state): State<AppState>, ctx: Ctx) -> Response {
    new_page(&state, &ctx, true, no_errors(), Vec::new())
}

/// Files a request from the public form. Rate-limited per address and in
/// all; nothing about the registry is shown, only the reference and the
/// secret to follow the request on the status page.
pub(crate) async fn public_create(
    State(state): State<AppState>,
    ctx: Ctx,
    req: axum::extract::Request,
) -> Result<Response, AppError> {
    let now = state.clock.now();
    if state.public_filings.is_blocked(PUBLIC_FORM, &ctx.address, now) {
        return Err(AppError::TooManyRequests);
    }
    let (mut form, photo) = super::form_with_photo(req).await?;
    form.retain(|(k, _)| k != "channel");
    form.push(("channel".into(), Channel::PublicForm.code().into()));
    let (request, photo) = match checked_filing(&form, photo, now.date()) {
        Ok(r) => r,
        Err(errors) => return Ok(new_page(&state, &ctx, true, errors, form)),
    };
    state.public_filings.fail(PUBLIC_FORM, &ctx.address, now);
    let mut audit = ctx.audit(now);
    audit.actor_name = "public form".into();
    let (filed, secret) = file(&state, request, photo, audit).await?;
    Ok(render(&FiledPage {
        c: Page::new(&state, &ctx, "tracing-filed"),
        id: None,
        reference: filed.reference,
        secret,
    }))
}

#[derive(Template)]
#[template(path = "tracing_view.html")]
struct ViewPage {
    c: Page,
    r: TracingRequest,
    next: Vec<&'static str>,
    scopes: Vec<&'static str>,
    methods: Vec<&'static str>,
    requester: Option<Requester>,
    /// The messages, when asked for (an audited read).
    messages: Option<Vec<RequestMessage>>,
    /// The visits, when asked for (an audited read).
    visits: Option<Vec<lantern_store::Visit>>,
    visit_rooms: Vec<lantern_store::VisitRoom>,
    outcomes: Vec<&'static str>,
    directions: Vec<&'static str>,
    errors: FieldErrors,
    /// Each candidate's explanation from the matching engine.
    why: Vec<(PersonId, lantern_matching::Explanation)>,
}

impl ViewPage {
    fn percent(&self, p: &f64) -> String {
        format!("{:.0} %", p * 100.0)
    }

    /// How the names of the request met this candidate's, word by word.
    fn why(&self, person: &PersonId) -> Vec<&lantern_matching::WordMatch> {
        self.why
            .iter()
            .find(|(p, _)| p == person)
            .map(|(_, e)| e.words.iter().collect())
            .unwrap_or_default()
    }

    /// The weight of each field besides names for this candidate.
    fn fields(&self, person: &PersonId) -> Vec<&lantern_matching::fields::FieldWeight> {
        self.why
            .iter()
            .find(|(p, _)| p == person)
            .map(|(_, e)| e.fields.iter().collect())
            .unwrap_or_default()
    }

    /// A weight in bits, signed, one decimal (`+2.3`, `−0.4`).
    fn bits(&self, w: &f64) -> String {
        if *w < 0.0 {
            format!("−{:.1}", -w)
        } else {
            format!("+{w:.1}")
        }
    }

    /// The registry can be searched for the request now.
    fn searchable(&self) -> bool {
        matches!(
            self.r.state,
            RequestState::Filed | RequestState::Searching | RequestState::NoCandidate
        )
    }

    /// Consent can be recorded or changed now.
    /// Consent is asked for, or may be changed (withdrawn at any time).
    fn consent_open(&self) -> bool {
        matches!(
            self.r.state,
            RequestState::ConsentRequested
                | RequestState::ConsentGiven
                | RequestState::ConsentDeclined
                | RequestState::MessageDelivered
                | RequestState::VisitScheduled
                | RequestState::VisitHeld
        )
    }

    fn has_scope(&self, code: &str) -> bool {
        self.r
            .consent
            .as_ref()
            .is_some_and(|c| c.consent.scope.iter().any(|s| s.code() == code))
    }
}

async fn view_page(
    state: &AppState,
    auth: &Authz<need::TracingWork>,
    id: RequestId,
    requester: Option<Requester>,
    errors: FieldErrors,
) -> Result<Response, AppError> {
    view_page_with(
        state,
        auth,
        id,
        Shown {
            requester,
            ..Shown::default()
        },
        errors,
    )
    .await
}

/// The protected parts of a request page shown on demand (each read audited).
#[derive(Default)]
struct Shown {
    requester: Option<Requester>,
    messages: Option<Vec<RequestMessage>>,
    visits: Option<Vec<lantern_store::Visit>>,
}

/// The request page, with the protected parts asked for (each read audited).
async fn view_page_with(
    state: &AppState,
    auth: &Authz<need::TracingWork>,
    id: RequestId,
    shown: Shown,
    errors: FieldErrors,
) -> Result<Response, AppError> {
    let r = state
        .db(move |s| s.tracing_request(id))
        .await?
        .ok_or(AppError::NotFound)?;
    let why = state.explain_candidates(&r);
    let role = auth.user.role;
    let next = r
        .state
        .next()
        .into_iter()
        .filter(|s| lantern_domain::tracing::allows_transition(role, *s))
        .map(|s| s.code())
        .collect();
    Ok(render_status(
        super::form_status(&errors),
        &ViewPage {
            c: Page::new(state, &auth.ctx, "tracing-request"),
            r,
            next,
            scopes: Scope::ALL.iter().map(|s| s.code()).collect(),
            methods: ConsentMethod::ALL.iter().map(|s| s.code()).collect(),
            requester: shown.requester,
            messages: shown.messages,
            visits: shown.visits,
            visit_rooms: state.db(|s| s.visit_rooms()).await?,
            outcomes: VisitStatus::ALL
                .iter()
                .filter(|s| **s != VisitStatus::Scheduled)
                .map(|s| s.code())
                .collect(),
            directions: MessageDirection::ALL.iter().map(|s| s.code()).collect(),
            errors,
            why,
        },
    ))
}

pub(crate) async fn show(
    State(state): State<AppState>,
    auth: Authz<need::TracingWork>,
    Path(id): Path<String>,
) -> Result<Response, AppError> {
    view_page(&state, &auth, request_id(&id)?, None, no_errors()).await
}

/// The requester's details: a protected read, audited.
pub(crate) async fn requester(
    State(state): State<AppState>,
    auth: Authz<need::TracingWork>,
    _may: Authz<need::TracingRequester>,
    Path(id): Path<String>,
) -> Result<Response, AppError> {
    show_with(&state, &auth, &id, |s, id, audit| {
        Ok(Shown {
            requester: Some(s.read_requester(id, audit)?),
            ..Shown::default()
        })
    })
    .await
}

/// The request page with a protected part read by `read` (an audited read).
async fn show_with(
    state: &AppState,
    auth: &Authz<need::TracingWork>,
    raw_id: &str,
    read: impl FnOnce(&dyn lantern_store::Store, RequestId, &lantern_store::AuditContext) -> lantern_store::StoreResult<Shown>
        + Send
        + 'static,
) -> Result<Response, AppError> {
    let id = request_id(raw_id)?;
    let audit = auth.ctx.audit(state.clock.now());
    let shown = state.db(move |s| read(s, id, &audit)).await?;
    view_page_with(state, auth, id, shown, no_errors()).await
}

/// Shows the request with its messages (an audited read).
pub(crate) async fn messages(
    State(state): State<AppState>,
    auth: Authz<need::TracingWork>,
    Path(id): Path<String>,
) -> Result<Response, AppError> {
    show_with(&state, &auth, &id, |s, id, audit| {
        Ok(Shown {
            messages: Some(s.read_messages(id, audit)?),
            ..Shown::default()
        })
    })
    .await
}

/// Shows the request with its visits and visitors (an audited read).
pub(crate) async fn visits(
    State(state): State<AppState>,
    auth: Authz<need::TracingWork>,
    Path(id): Path<String>,
) -> Result<Response, AppError> {
    show_with(&state, &auth, &id, |s, id, audit| {
        Ok(Shown {
            visits: Some(s.read_visits(id, audit)?),
            ..Shown::default()
        })
    })
    .await
}

/// A visit booking as the request page's form gives it.
pub(crate) fn visit_form(request: RequestId, form: &Pairs) -> Result<lantern_store::NewVisit, FieldErrors> {
    let mut errors = FieldErrors::new();
    let slot = super::interviews::slot_form(&mut errors, form);
    let room = errors.take(VisitRoomId::parse("room_id", field(form, "room_id")));
    let mut visitors = Vec::new();
    for line in field(form, "visitors").lines().map(str::trim).filter(|l| !l.is_empty()) {
        if let Some(v) = errors.take(lantern_domain::text::required_text("visitors", line, 200)) {
            visitors.push(v);
        }
    }
    if visitors.is_empty() {
        errors.push("visitors", Reason::Required);
    }
    match (slot, room, errors.is_empty()) {
        (Some(slot), Some(room), true) => Ok(lantern_store::NewVisit {
            request,
            room,
            slot,
            visitors,
        }),
        _ => Err(errors),
    }
}

/// Books a visit.
pub(crate) async fn book_visit(
    State(state): State<AppState>,
    auth: Authz<need::TracingWork>,
    Path(id): Path<String>,
    Form(form): Form<Pairs>,
) -> Result<Response, AppError> {
    let id = request_id(&id)?;
    let visit = match visit_form(id, &form) {
        Ok(v) => v,
        Err(errors) => return view_page(&state, &auth, id, None, errors).await,
    };
    require_transition(&state, &auth, RequestState::VisitScheduled).await?;
    let audit = auth.ctx.audit(state.clock.now());
    match state.db(move |s| s.book_visit(&visit, &audit)).await {
        Ok(_) => Ok(Redirect::to(&format!("/tracing/{id}/visits")).into_response()),
        Err(AppError::Invalid(errors)) => view_page(&state, &auth, id, None, errors).await,
        Err(e) => Err(e),
    }
}

/// Records what became of a visit.
pub(crate) async fn close_visit(
    State(state): State<AppState>,
    auth: Authz<need::TracingWork>,
    Path(id): Path<String>,
    Form(form): Form<Pairs>,
) -> Result<Response, AppError> {
    let visit = VisitId::parse("id", &id).map_err(|_| AppError::NotFound)?;
    let request = request_id(field(&form, "request_id"))?;
    let status = match VisitStatus::parse("status", field(&form, "status")) {
        Ok(s) => s,
        Err(e) => return view_page(&state, &auth, request, None, FieldErrors(vec![e])).await,
    };
    require_transition(&state, &auth, RequestState::VisitHeld).await?;
    let text = |k: &str| Some(field(&form, k).to_string()).filter(|t| !t.trim().is_empty());
    let (by, reason) = (text("outcome_by"), text("reason"));
    let audit = auth.ctx.audit(state.clock.now());
    match state
        .db(move |s| s.close_visit(visit, status, by, reason, &audit))
        .await
    {
        Ok(_) => Ok(Redirect::to(&format!("/tracing/{request}/visits")).into_response()),
        Err(AppError::Invalid(errors)) => view_page(&state, &auth, request, None, errors).await,
        Err(e) => Err(e),
    }
}

/// Records a message: the family's news, or the person's reply.
pub(crate) async fn add_message(
    State(state): State<AppState>,
    auth: Authz<need::TracingWork>,
    Path(id): Path<String>,
    Form(form): Form<Pairs>,
) -> Result<Response, AppError> {
    let id = request_id(&id)?;
    let mut errors = FieldErrors::new();
    let direction = errors.take(MessageDirection::parse("direction", field(&form, "direction")));
    let text = errors.take(lantern_domain::tracing::message_text("text", field(&form, "text")));
    if let (Some(direction), Some(text)) = (direction, text) {
        let audit = auth.ctx.audit(state.clock.now());
        match state.db(move |s| s.add_message(id, direction, &text, &audit)).await {
            Ok(_) => return Ok(Redirect::to(&format!("/tracing/{id}/messages")).into_response()),
            Err(AppError::Invalid(e)) => errors = e,
            Err(e) => return Err(e),
        }
    }
    view_page(&state, &auth, id, None, errors).await
}

/// Records that the family's message reached the person.
pub(crate) async fn deliver_message(
    State(state): State<AppState>,
    auth: Authz<need::TracingWork>,
    Path((id, message)): Path<(String, String)>,
) -> Result<Response, AppError> {
    let id = request_id(&id)?;
    let message = MessageId::parse("message_id", &message).map_err(|_| AppError::NotFound)?;
    require_transition(&state, &auth, RequestState::MessageDelivered).await?;
    let audit = auth.ctx.audit(state.clock.now());
    match state.db(move |s| s.deliver_message(id, message, &audit)).await {
        Ok(_) => Ok(Redirect::to(&format!("/tracing/{id}/messages")).into_response()),
        Err(AppError::Invalid(errors)) => view_page(&state, &auth, id, None, errors).await,
        Err(e) => Err(e),
    }
}

/// Runs the matching engine for the request and records its candidates.
pub(crate) async fn search(
    State(state): State<AppState>,
    auth: Authz<need::TracingWork>,
    Path(id): Path<String>,
) -> Result<Response, AppError> {
    let id = request_id(&id)?;
    require_transition(&state, &auth, RequestState::CandidatesFound).await?;
    let r = state
        .db(move |s| s.tracing_request(id))
        .await?
        .ok_or(AppError::NotFound)?;
    // A filed request is moved to the search with its candidates.
    let found = state.candidates_for(&r.sought).await?;
    let audit = auth.ctx.audit(state.clock.now());
    state.db(move |s| s.propose_candidates(id, &found, &audit)).await?;
    Ok(Redirect::to(&format!("/tracing/{id}")).into_response())
}

pub(crate) async fn decide(
    State(state): State<AppState>,
    auth: Authz<need::TracingWork>,
    Path(id): Path<String>,
    Form(form): Form<Pairs>,
) -> Result<Response, AppError> {
    let id = request_id(&id)?;
    let person = PersonId::parse("person_id", field(&form, "person_id"))?;
    let confirm = match field(&form, "decision") {
        "confirm" => true,
        "reject" => false,
        _ => return Err(lantern_domain::FieldError::new("decision", Reason::UnknownChoice).into()),
    };
    require_transition(&state, &auth, RequestState::MatchConfirmed).await?;
    let audit = auth.ctx.audit(state.clock.now());
    state
        .db(move |s| s.decide_candidate(id, person, confirm, &audit))
        .await?;
    Ok(Redirect::to(&format!("/tracing/{id}")).into_response())
}

pub(crate) async fn move_state(
    State(state): State<AppState>,
    auth: Authz<need::TracingWork>,
    Path(id): Path<String>,
    Form(form): Form<Pairs>,
) -> Result<Response, AppError> {
    let id = request_id(&id)?;
    let mut errors = FieldErrors::new();
    let expected = errors.take(RequestState::parse("expected", field(&form, "expected")));
    let to = errors.take(RequestState::parse("state", field(&form, "state")));
    let reason = optional(&mut errors, "reason", field(&form, "reason"), 500);
    let (Some(expected), Some(to), true) = (expected, to, errors.is_empty()) else {
        return view_page(&state, &auth, id, None, errors).await;
    };
    require_transition(&state, &auth, to).await?;
    let audit = auth.ctx.audit(state.clock.now());
    match state
        .db(move |s| s.move_request(id, expected, to, reason, &audit))
        .await
    {
        Ok(_) => Ok(Redirect::to(&format!("/tracing/{id}")).into_response()),
        Err(AppError::Invalid(errors)) => view_page(&state, &auth, id, None, errors).await,
        Err(e) => Err(e),
    }
}

/// A consent as a form gives it (`scope` repeated, `not_to_be_traced`,
/// `method`, `witness`); every refused field at once.
pub(crate) fn consent_form(form: &Pairs) -> Result<ConsentInput, FieldErrors> {
    let mut errors = FieldErrors::new();
    let mut scope = std::collections::HashSet::new();
    for (k, v) in form {
        if k == "scope" {
            if let Some(s) = errors.take(Scope::parse("scope", v)) {
                scope.insert(s);
            }
        }
    }
    let method = errors.take(ConsentMethod::parse("method", field(form, "method")));
    let witness = optional(&mut errors, "witness", field(form, "witness"), 200);
    let form_id = match field(form, "form").trim() {
        "" => None,
        raw => errors.take(lantern_domain::evidence::EvidenceId::parse("form", raw)),
    };
    let consent = Consent {
        scope,
        not_to_be_traced: matches!(field(form, "not_to_be_traced"), "on" | "true"),
    };
    match (method, errors.is_empty()) {
        (Some(method), true) => Ok(ConsentInput {
            consent,
            method,
            witness,
            form: form_id,
        }),
        _ => Err(errors),
    }
}

/// Records consent from the request page. A signed consent comes with its
/// form, uploaded with the decision (multipart, streamed into the vault) and
/// kept as an evidence record the consent points to.
pub(crate) async fn consent(
    State(state): State<AppState>,
    auth: Authz<need::TracingWork>,
    Path(id): Path<String>,
    multipart: Result<axum::extract::Multipart, axum::extract::multipart::MultipartRejection>,
) -> Result<Response, AppError> {
    let id = request_id(&id)?;
    let upload = match super::evidence::receive(&state, multipart).await {
        Ok(u) => u,
        Err(AppError::Invalid(errors)) => return view_page(&state, &auth, id, None, errors).await,
        Err(e) => return Err(e),
    };
    let mut input = match consent_form(&upload.fields) {
        Ok(c) => c,
        Err(errors) => {
            super::evidence::discard(&state, &upload).await;
            return view_page(&state, &auth, id, None, errors).await;
        }
    };
    if let Err(e) = require_transition(&state, &auth, RequestState::ConsentGiven).await {
        super::evidence::discard(&state, &upload).await;
        return Err(e);
    }
    if upload.file.is_some() {
        let reference = state
            .db(move |s| s.tracing_request(id))
            .await?
            .map(|r| r.reference)
            .unwrap_or_default();
        let form = super::evidence::Upload {
            fields: vec![
                ("title".into(), format!("Signed consent form, {reference}")),
                ("received_how".into(), "signed form".into()),
            ],
            file: upload.file,
        };
        match super::evidence::record(&state, &auth.ctx, form, None).await {
            Ok(added) => input.form = Some(added.evidence.id),
            Err(AppError::Invalid(errors)) => return view_page(&state, &auth, id, None, errors).await,
            Err(e) => return Err(e),
        }
    }
    let audit = auth.ctx.audit(state.clock.now());
    match state.db(move |s| s.record_consent(id, &input, &audit)).await {
        Ok(_) => Ok(Redirect::to(&format!("/tracing/{id}")).into_response()),
        Err(AppError::Invalid(errors)) => view_page(&state, &auth, id, None, errors).await,
        Err(e) => Err(e),
    }
}

#[derive(Template)]
#[template(path = "status.html")]
struct StatusPage {
    c: Page,
    view: Option<RequesterView>,
    not_found: bool,
}

/// The family's status page: no account, a reference and a secret.
pub(crate) async fn status_form(State(state): State<AppState>, ctx: Ctx) -> Response {
    render(&StatusPage {
        c: Page::new(&state, &ctx, "status-title"),
        view: None,
        not_found: false,
    })
}

/// What the family may see, decided by `requester_view` alone.
pub(crate) async fn status(
    State(state): State<AppState>,
    ctx: Ctx,
    Form(form): Form<Pairs>,
) -> Result<Response, AppError> {
    let now = state.clock.now();
    if state.status_lookups.is_blocked("status", &ctx.address, now) {
        return Err(AppError::TooManyRequests);
    }
    state.status_lookups.fail("status", &ctx.address, now);
    let reference = field(&form, "reference").trim().to_uppercase();
    let hash = token_hash(field(&form, "secret").trim());
    let found = state.db(move |s| s.request_by_reference(&reference, &hash)).await?;
    let view = match found {
        None => None,
        Some(r) => {
            let site = match &r.matched {
                Some((person, _)) => {
                    let person = *person;
                    let p = state.db(move |s| s.person(person)).await?;
                    let sites = state.db(|s| s.sites()).await?;
                    p.and_then(|p| p.core.site_id)
                        .and_then(|sid| sites.into_iter().find(|s| s.id == sid))
                        .map(|s| s.name)
                }
                None => None,
            };
            // The latest reply, read only when consent lets it through (a
            // family's read of protected text, audited).
            let reply = if lantern_domain::tracing::messages_allowed(r.consent.as_ref().map(|c| &c.consent)) {
                let (request, mut audit) = (r.id, ctx.audit(now));
                audit.actor_name = "family (status page)".into();
                state
                    .db(move |s| s.read_messages(request, &audit))
                    .await?
                    .into_iter()
                    .rev()
                    .find(|m| m.direction == MessageDirection::ToFamily)
                    .map(|m| m.text)
            } else {
                None
            };
            // The next or last visit, when consent lets it through.
            let visit = if lantern_domain::tracing::visits_allowed(r.consent.as_ref().map(|c| &c.consent)) {
                let (request, mut audit) = (r.id, ctx.audit(now));
                audit.actor_name = "family (status page)".into();
                state
                    .db(move |s| s.read_visits(request, &audit))
                    .await?
                    .into_iter()
                    .rev()
                    .find(|v| matches!(v.status, VisitStatus::Scheduled | VisitStatus::Held))
                    // The meeting room, not the site: consent to a visit is
                    // not consent to share where the person lives.
                    .map(|v| format!("{}, {}", crate::view::utc_minutes(v.slot.start), v.room_name))
            } else {
                None
            };
            let facts = SoughtFacts {
                site,
                contact: None,
                reply,
                visit,
            };
            Some(requester_view(r.state, r.consent.as_ref().map(|c| &c.consent), &facts))
        }
    };
    Ok(render_status(
        if view.is_some() {
            axum::http::StatusCode::OK
        } else {
            axum::http::StatusCode::NOT_FOUND
        },
        &StatusPage {
            c: Page::new(&state, &ctx, "status-title"),
            not_found: view.is_none(),
            view,
        },
    ))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn pairs(items: &[(&str, &str)]) -> Pairs {
        items.iter().map(|(k, v)| (k.to_string(), v.to_string())).collect()
    }

    #[test]
    fn incomplete_requests_are_accepted_and_malformed_ones_refused() {
        let today = time::macros::date!(2026 - 03 - 02);
        let r = request_form(
            &pairs(&[
                ("kind", "visit"),
                ("channel", "gate"),
                ("requester_name", "A Relative"),
                ("names", "Massoud Karimi\n\nمسعود"),
                ("birth_date", "1975"),
            ]),
            today,
        )
        .unwrap();
        assert_eq!(r.sought.names, ["Massoud Karimi", "مسعود"]);
        assert_eq!(r.sought.birth_date.as_deref(), Some("1975"));
        let errors = request_form(
            &pairs(&[("kind", "find"), ("channel", "fax"), ("birth_date", "19x5")]),
            today,
        )
        .unwrap_err();
        let fields: Vec<_> = errors.0.iter().map(|e| e.field.as_str()).collect();
        assert_eq!(fields, ["channel", "names", "birth_date", "requester_name"]);
    }
}
