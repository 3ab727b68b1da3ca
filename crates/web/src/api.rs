//! The JSON API under `/api/v1`, authenticated by bearer tokens (created on
//! the account page), described by an OpenAPI 3 document generated from
//! these handlers at `/api/v1/openapi.json`.
//!
//! Errors are JSON: `{"error": {"code", "message", "fields": [{"field",
//! "code", "message"}]}}`; `code` values are stable, messages follow the
//! user's language.

use axum::extract::rejection::{JsonRejection, QueryRejection};
use axum::extract::{FromRequest, Path, Query, Request, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use axum::{Json, Router};
use lantern_domain::family::{FamilyLink, LinkKind};
use lantern_domain::person::{HouseholdId, PersonId, PersonInput, ProtectedFields, ResidenceStatus, SiteId};
use lantern_domain::{FieldError, FieldErrors, Reason};
use lantern_store::{AuditFilter, PageRequest, Person, PersonQuery, PersonSummary, PersonVersion};
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, OpenApi, ToSchema};

use crate::authz::{need, Authz};
use crate::context::Ctx;
use crate::error::AppError;
use crate::AppState;

/// The API's routes.
pub fn routes(max_upload: usize) -> Router<AppState> {
    Router::new()
        .route("/openapi.json", get(openapi))
        .route("/me", get(me))
        .route("/people", get(list_people).post(create_person))
        .route("/people/{id}", get(get_person).put(update_person).delete(delete_person))
        .route("/people/{id}/protected", get(get_protected))
        .route("/people/{id}/history", get(get_history))
        .route(
            "/people/{id}/photo",
            get(get_photo)
                .put(put_photo)
                .layer(axum::extract::DefaultBodyLimit::max(max_upload)),
        )
        .route("/people/{id}/links", axum::routing::post(add_link).delete(remove_link))
        .route("/households", get(list_households).post(create_household))
        .route("/households/{id}", get(get_household))
        .route("/sites", get(list_sites))
        .route("/audit", get(list_audit))
        .merge(crate::api_cases::routes())
        .merge(crate::api_interviews::routes())
        .merge(crate::api_tracing::routes(max_upload))
        .merge(crate::api_evidence::routes())
        .merge(crate::api_testimony::routes())
}

/// A JSON body whose syntax errors come back as API errors.
pub struct ApiJson<T>(pub T);

impl<T: serde::de::DeserializeOwned, S: Send + Sync> FromRequest<S> for ApiJson<T> {
    type Rejection = AppError;

    async fn from_request(req: Request, state: &S) -> Result<Self, AppError> {
        match Json::<T>::from_request(req, state).await {
            Ok(Json(v)) => Ok(ApiJson(v)),
            Err(JsonRejection::BytesRejection(_)) => Err(AppError::PayloadTooLarge),
            Err(e) => Err(FieldError::new(body_field(&e.body_text()), Reason::InvalidFormat).into()),
        }
    }
}

/// The field a serde error names (`names[0].text: invalid type …` gives
/// `names[0].text`), else `body`.
fn body_field(text: &str) -> String {
    text.split_once(": ")
        .and_then(|(_, rest)| rest.split_once(": "))
        .map(|(f, _)| f.trim().to_string())
        .filter(|f| !f.is_empty() && !f.contains(' '))
        .unwrap_or_else(|| "body".into())
}

/// A query string whose errors come back as API errors.
pub struct ApiQuery<T>(pub T);

impl<T: serde::de::DeserializeOwned, S: Send + Sync> axum::extract::FromRequestParts<S> for ApiQuery<T> {
    type Rejection = AppError;

    async fn from_request_parts(parts: &mut axum::http::request::Parts, state: &S) -> Result<Self, AppError> {
        Query::<T>::from_request_parts(parts, state)
            .await
            .map(|Query(v)| ApiQuery(v))
            .map_err(|e: QueryRejection| FieldError::new(body_field(&e.body_text()), Reason::InvalidFormat).into())
    }
}

/// Every API error: a code, a message, and the refused fields if any.
#[derive(Serialize, ToSchema)]
pub struct ErrorBody {
    error: ErrorDetail,
}

/// A registered person who may be the one being registered.
#[derive(Serialize, ToSchema)]
struct DuplicateOut {
    id: String,
    primary_name: String,
    other_names: Vec<String>,
    birth_date: Option<String>,
    /// Estimated probability that it is the same person.
    probability: f64,
}

#[derive(Serialize, ToSchema)]
struct ErrorDetail {
    /// Stable code: `invalid`, `not_found`, `forbidden`, `unauthenticated`,
    /// `conflict`, `payload_too_large`, `too_many_requests`, `internal` …
    code: String,
    /// The error in the user's language.
    message: String,
    /// For `invalid`: each refused field.
    fields: Vec<FieldErrorOut>,
    /// For `possible_duplicate`: the registered people who may be this one.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    candidates: Vec<DuplicateOut>,
}

#[derive(Serialize, ToSchema)]
struct FieldErrorOut {
    /// The field, as the request spells it (`names[0].text`).
    field: String,
    /// Stable reason code (`required`, `too-long`, `invalid-date` …).
    code: String,
    /// The reason in the user's language.
    message: String,
}

/// The JSON form of an error (used by the context middleware).
pub fn error_response(state: &AppState, ctx: &Ctx, err: &AppError) -> Response {
    let fields = match err {
        AppError::Invalid(errors) => errors
            .0
            .iter()
            .map(|e| FieldErrorOut {
                field: e.field.clone(),
                code: e.reason.code().to_string(),
                message: state.i18n.field_error(ctx.lang, e),
            })
            .collect(),
        _ => Vec::new(),
    };
    let body = ErrorBody {
        error: ErrorDetail {
            code: err.code().to_string(),
            message: state.i18n.text(ctx.lang, &format!("http-{}", err.code()), &[]),
            fields,
            candidates: Vec::new(),
        },
    };
    (err.status(), Json(body)).into_response()
}

/// A name in a response.
#[derive(Serialize, ToSchema)]
pub struct NameOut {
    text: String,
    /// `arabic`, `latin`, `mixed` or `other`.
    script: String,
    /// `primary`, `alias`, `organisational`, `birth` or `nickname`.
    kind: String,
    language: Option<String>,
}

/// A family link in a response.
#[derive(Serialize, ToSchema)]
pub struct LinkOut {
    /// What the relative is to the person.
    kind: String,
    relative_id: String,
    relative_name: String,
}

/// A person's unprotected record.
#[derive(Serialize, ToSchema)]
pub struct PersonOut {
    id: String,
    version: i64,
    names: Vec<NameOut>,
    father_name: Option<String>,
    mother_name: Option<String>,
    sex: String,
    /// `YYYY-MM-DD`, `YYYY-MM`, `YYYY` or `YYYY..YYYY`.
    birth_date: Option<String>,
    /// `day`, `month`, `year` or `range`.
    birth_date_precision: Option<String>,
    birth_place: Option<String>,
    nationality: Option<String>,
    status: String,
    site_id: Option<String>,
    block: Option<String>,
    room: Option<String>,
    household_id: Option<String>,
    /// Not to be traced (protection concerns): never matched against
    /// tracing requests.
    not_to_be_traced: bool,
    /// True when protected fields exist (read them at `/people/{id}/protected`).
    has_protected: bool,
    /// True when a photo exists (at `/people/{id}/photo`).
    has_photo: bool,
    links: Vec<LinkOut>,
    created_at: String,
    updated_at: String,
}

/// A time as RFC 3339, as every API body writes times.
pub(crate) fn rfc3339(t: time::OffsetDateTime) -> String {
    t.format(&time::format_description::well_known::Rfc3339)
        .unwrap_or_default()
}

fn names_out(core: &lantern_domain::person::PersonCore) -> Vec<NameOut> {
    core.names
        .iter()
        .map(|n| NameOut {
            text: n.text.as_str().to_string(),
            script: n.script.code().to_string(),
            kind: n.kind.code().to_string(),
            language: n.language.as_ref().map(|l| l.as_str().to_string()),
        })
        .collect()
}

impl From<Person> for PersonOut {
    fn from(p: Person) -> Self {
        let c = p.core;
        PersonOut {
            id: p.id.to_string(),
            version: p.version,
            names: names_out(&c),
            father_name: c.father_name.clone(),
            mother_name: c.mother_name.clone(),
            sex: c.sex.code().into(),
            birth_date: c.birth_date.map(|d| d.to_string()),
            birth_date_precision: c.birth_date.map(|d| d.precision().to_string()),
            birth_place: c.birth_place.clone(),
            nationality: c.nationality.clone(),
            status: c.status.code().into(),
            site_id: c.site_id.map(|s| s.to_string()),
            block: c.block.clone(),
            room: c.room.clone(),
            household_id: c.household_id.map(|h| h.to_string()),
            not_to_be_traced: c.not_to_be_traced,
            has_protected: p.has_protected,
            has_photo: p.has_photo,
            links: p
                .links
                .into_iter()
                .map(|l| LinkOut {
                    kind: l.kind.code().into(),
                    relative_id: l.relative.to_string(),
                    relative_name: l.relative_name,
                })
                .collect(),
            created_at: rfc3339(p.created_at),
            updated_at: rfc3339(p.updated_at),
        }
    }
}

/// A person in a list.
#[derive(Serialize, ToSchema)]
pub struct PersonSummaryOut {
    id: String,
    primary_name: String,
    other_names: Vec<String>,
    sex: String,
    birth_date: Option<String>,
    status: String,
    site: Option<String>,
    block: Option<String>,
}

impl From<PersonSummary> for PersonSummaryOut {
    fn from(p: PersonSummary) -> Self {
        PersonSummaryOut {
            id: p.id.to_string(),
            primary_name: p.primary_name.text.as_str().to_string(),
            other_names: p.other_names,
            sex: p.sex.code().into(),
            birth_date: p.birth_date,
            status: p.status.code().into(),
            site: p.site,
            block: p.block,
        }
    }
}

/// One page of people.
#[derive(Serialize, ToSchema)]
pub struct PeoplePage {
    items: Vec<PersonSummaryOut>,
    page: u32,
    size: u32,
    /// Matches, or at least this many when `total_is_lower_bound`.
    total: u64,
    /// True when counting stopped at a cap (1,000 for name searches, 10,000 otherwise).
    total_is_lower_bound: bool,
}

/// Search parameters.
#[derive(Deserialize, IntoParams)]
pub struct PeopleParams {
    /// Name in any script; each word matches the start of a word of a name.
    q: Option<String>,
    /// Residence status code.
    status: Option<String>,
    /// Site id.
    site: Option<String>,
    /// Birth year.
    year: Option<i32>,
    /// Page, from 1.
    page: Option<u32>,
    /// Page size, 1 to 200.
    size: Option<u32>,
}

#[utoipa::path(get, path = "/people", params(PeopleParams), tag = "people",
    responses((status = 200, body = PeoplePage), (status = 401, body = ErrorBody), (status = 403, body = ErrorBody)))]
async fn list_people(
    State(state): State<AppState>,
    _auth: Authz<need::PersonRead>,
    ApiQuery(p): ApiQuery<PeopleParams>,
) -> Result<Json<PeoplePage>, AppError> {
    let mut errors = FieldErrors::new();
    let status = p
        .status
        .as_deref()
        .filter(|s| !s.is_empty())
        .and_then(|s| errors.take(ResidenceStatus::parse("status", s)));
    let site = p
        .site
        .as_deref()
        .filter(|s| !s.is_empty())
        .and_then(|s| errors.take(SiteId::parse("site", s)));
    if p.q.as_ref().is_some_and(|q| q.chars().count() > 200) {
        errors.push("q", Reason::TooLong { max: 200 });
    }
    if !errors.is_empty() {
        return Err(errors.into());
    }
    let query = PersonQuery {
        name: p.q.filter(|q| !q.trim().is_empty()),
        status,
        site,
        birth_year: p.year,
        page: PageRequest::new(p.page.unwrap_or(1), p.size.unwrap_or(50)),
    };
    let result = state.db(move |s| s.search_people(&query)).await?;
    Ok(Json(PeoplePage {
        items: result.items.into_iter().map(Into::into).collect(),
        page: result.page,
        size: result.size,
        total: result.total,
        total_is_lower_bound: result.total_is_lower_bound,
    }))
}

fn parse_id(raw: &str) -> Result<PersonId, AppError> {
    PersonId::parse("id", raw).map_err(|_| AppError::NotFound)
}

/// Options of a registration.
#[derive(Deserialize, IntoParams)]
pub struct CreateParams {
    /// Register even if likely duplicates exist (after checking them).
    #[serde(default)]
    confirm_new: bool,
}

#[utoipa::path(post, path = "/people", request_body = PersonInput, params(CreateParams), tag = "people",
    responses((status = 201, body = PersonOut), (status = 409, description = "possible_duplicate: likely the same person as registered ones (listed); repeat with confirm_new=true", body = ErrorBody),
        (status = 422, body = ErrorBody), (status = 403, body = ErrorBody)))]
async fn create_person(
    State(state): State<AppState>,
    auth: Authz<need::PersonWrite>,
    ApiQuery(params): ApiQuery<CreateParams>,
    ApiJson(input): ApiJson<PersonInput>,
) -> Result<Response, AppError> {
    let now = state.clock.now();
    let draft = input.parse(now.date())?;
    if !params.confirm_new {
        let duplicates = state
            .likely_duplicates(crate::engine::Query::person(&draft.core))
            .await?;
        if !duplicates.is_empty() {
            let body = ErrorBody {
                error: ErrorDetail {
                    code: "possible_duplicate".into(),
                    message: state.i18n.text(auth.ctx.lang, "http-possible_duplicate", &[]),
                    fields: Vec::new(),
                    candidates: duplicates
                        .into_iter()
                        .map(|(s, p)| DuplicateOut {
                            id: s.id.to_string(),
                            primary_name: s.primary_name.text.as_str().to_string(),
                            other_names: s.other_names,
                            birth_date: s.birth_date,
                            probability: (p * 1000.0).round() / 1000.0,
                        })
                        .collect(),
                },
            };
            return Ok((StatusCode::CONFLICT, Json(body)).into_response());
        }
    }
    let audit = auth.ctx.audit(now);
    let p = state.db(move |s| s.create_person(&draft, &audit)).await?;
    state.reindex(p.id).await;
    Ok((StatusCode::CREATED, Json(PersonOut::from(p))).into_response())
}

#[utoipa::path(get, path = "/people/{id}", tag = "people",
    responses((status = 200, body = PersonOut), (status = 404, body = ErrorBody)))]
async fn get_person(
    State(state): State<AppState>,
    _auth: Authz<need::PersonRead>,
    Path(id): Path<String>,
) -> Result<Json<PersonOut>, AppError> {
    let id = parse_id(&id)?;
    let p = state.db(move |s| s.person(id)).await?.ok_or(AppError::NotFound)?;
    Ok(Json(p.into()))
}

/// An update: the new content and the version it was based on.
#[derive(Deserialize, ToSchema)]
pub struct PersonUpdate {
    /// The version read before editing; a newer stored version answers 409.
    version: i64,
    /// The full new content (protected fields included: omitted ones are cleared).
    #[serde(flatten)]
    person: PersonInput,
}

#[utoipa::path(put, path = "/people/{id}", request_body = PersonUpdate, tag = "people",
    responses((status = 200, body = PersonOut), (status = 409, body = ErrorBody), (status = 422, body = ErrorBody)))]
async fn update_person(
    State(state): State<AppState>,
    auth: Authz<need::PersonWrite>,
    Path(id): Path<String>,
    ApiJson(body): ApiJson<PersonUpdate>,
) -> Result<Json<PersonOut>, AppError> {
    let id = parse_id(&id)?;
    let now = state.clock.now();
    let draft = body.person.parse(now.date())?;
    let audit = auth.ctx.audit(now);
    let version = body.version;
    let p = state.db(move |s| s.update_person(id, version, &draft, &audit)).await?;
    state.reindex(id).await;
    Ok(Json(p.into()))
}

/// The version a deletion is based on.
#[derive(Deserialize, IntoParams)]
pub struct VersionParam {
    /// The version read before deleting.
    version: i64,
}

#[utoipa::path(delete, path = "/people/{id}", params(VersionParam), tag = "people",
    responses((status = 204), (status = 409, body = ErrorBody), (status = 404, body = ErrorBody)))]
async fn delete_person(
    State(state): State<AppState>,
    auth: Authz<need::PersonDelete>,
    Path(id): Path<String>,
    ApiQuery(v): ApiQuery<VersionParam>,
) -> Result<StatusCode, AppError> {
    let id = parse_id(&id)?;
    let audit = auth.ctx.audit(state.clock.now());
    state.db(move |s| s.delete_person(id, v.version, &audit)).await?;
    state.reindex(id).await;
    Ok(StatusCode::NO_CONTENT)
}

/// Protected fields (every read is audited).
#[derive(Serialize, ToSchema)]
pub struct ProtectedOut {
    documents: Vec<DocumentOut>,
    contact: Option<String>,
    notes: Option<String>,
}

/// An identity document.
#[derive(Serialize, ToSchema)]
pub struct DocumentOut {
    kind: String,
    number: String,
    issuer: Option<String>,
}

impl From<ProtectedFields> for ProtectedOut {
    fn from(p: ProtectedFields) -> Self {
        ProtectedOut {
            documents: p
                .documents
                .into_iter()
                .map(|d| DocumentOut {
                    kind: d.kind.code().into(),
                    number: d.number,
                    issuer: d.issuer,
                })
                .collect(),
            contact: p.contact,
            notes: p.notes,
        }
    }
}

#[utoipa::path(get, path = "/people/{id}/protected", tag = "people",
    responses((status = 200, body = ProtectedOut), (status = 403, body = ErrorBody)))]
async fn get_protected(
    State(state): State<AppState>,
    auth: Authz<need::PersonReadProtected>,
    Path(id): Path<String>,
) -> Result<Json<ProtectedOut>, AppError> {
    let id = parse_id(&id)?;
    let audit = auth.ctx.audit(state.clock.now());
    let p = state.db(move |s| s.read_protected(id, &audit)).await?;
    Ok(Json(p.into()))
}

/// One version of a person.
#[derive(Serialize, ToSchema)]
pub struct VersionOut {
    version: i64,
    at: String,
    actor: String,
    action: String,
    names: Vec<NameOut>,
    birth_date: Option<String>,
    status: String,
    protected_changed: bool,
}

impl From<PersonVersion> for VersionOut {
    fn from(v: PersonVersion) -> Self {
        VersionOut {
            version: v.version,
            at: rfc3339(v.at),
            actor: v.actor_name,
            action: v.action,
            names: names_out(&v.core),
            birth_date: v.core.birth_date.map(|d| d.to_string()),
            status: v.core.status.code().into(),
            protected_changed: v.protected_changed,
        }
    }
}

#[utoipa::path(get, path = "/people/{id}/history", tag = "people",
    responses((status = 200, body = [VersionOut]), (status = 404, body = ErrorBody)))]
async fn get_history(
    State(state): State<AppState>,
    _auth: Authz<need::PersonRead>,
    Path(id): Path<String>,
) -> Result<Json<Vec<VersionOut>>, AppError> {
    let id = parse_id(&id)?;
    let h = state.db(move |s| s.person_history(id)).await?;
    Ok(Json(h.into_iter().map(Into::into).collect()))
}

#[utoipa::path(get, path = "/people/{id}/photo", tag = "people",
    responses((status = 200, description = "the photo (image/jpeg or image/png)"), (status = 404, body = ErrorBody)))]
async fn get_photo(
    State(state): State<AppState>,
    _auth: Authz<need::PersonRead>,
    Path(id): Path<String>,
) -> Result<Response, AppError> {
    let id = parse_id(&id)?;
    let photo = state.db(move |s| s.photo(id)).await?.ok_or(AppError::NotFound)?;
    Ok(crate::pages::photo_response(photo))
}

#[utoipa::path(put, path = "/people/{id}/photo", tag = "people",
    request_body(content = Vec<u8>, content_type = "image/jpeg", description = "a JPEG or PNG image, at most 5 MiB"),
    responses((status = 204), (status = 413, body = ErrorBody), (status = 422, body = ErrorBody)))]
async fn put_photo(
    State(state): State<AppState>,
    auth: Authz<need::PersonWrite>,
    Path(id): Path<String>,
    body: Result<axum::body::Bytes, axum::extract::rejection::BytesRejection>,
) -> Result<StatusCode, AppError> {
    let id = parse_id(&id)?;
    let body = body.map_err(|_| AppError::PayloadTooLarge)?;
    let photo = lantern_domain::person::Photo::parse("body", body.to_vec())?;
    let audit = auth.ctx.audit(state.clock.now());
    state.db(move |s| s.set_photo(id, &photo, &audit)).await?;
    Ok(StatusCode::NO_CONTENT)
}

/// A family link to add or remove.
#[derive(Deserialize, ToSchema, IntoParams)]
pub struct LinkIn {
    /// The relative's id.
    relative_id: String,
    /// What the relative is to the person: parent, child, spouse, sibling, other.
    kind: String,
}

fn link(id: PersonId, l: &LinkIn) -> Result<FamilyLink, AppError> {
    let mut errors = FieldErrors::new();
    let relative = errors.take(PersonId::parse("relative_id", &l.relative_id));
    let kind = errors.take(LinkKind::parse("kind", &l.kind));
    match (relative, kind) {
        (Some(relative), Some(kind)) => Ok(FamilyLink {
            person: id,
            relative,
            kind,
        }),
        _ => Err(errors.into()),
    }
}

#[utoipa::path(post, path = "/people/{id}/links", request_body = LinkIn, tag = "people",
    responses((status = 204), (status = 422, body = ErrorBody)))]
async fn add_link(
    State(state): State<AppState>,
    auth: Authz<need::PersonWrite>,
    Path(id): Path<String>,
    ApiJson(body): ApiJson<LinkIn>,
) -> Result<StatusCode, AppError> {
    let l = link(parse_id(&id)?, &body)?;
    let audit = auth.ctx.audit(state.clock.now());
    state.db(move |s| s.add_link(l, &audit)).await?;
    Ok(StatusCode::NO_CONTENT)
}

#[utoipa::path(delete, path = "/people/{id}/links", params(LinkIn), tag = "people",
    responses((status = 204), (status = 404, body = ErrorBody)))]
async fn remove_link(
    State(state): State<AppState>,
    auth: Authz<need::PersonWrite>,
    Path(id): Path<String>,
    ApiQuery(body): ApiQuery<LinkIn>,
) -> Result<StatusCode, AppError> {
    let l = link(parse_id(&id)?, &body)?;
    let audit = auth.ctx.audit(state.clock.now());
    state.db(move |s| s.remove_link(l, &audit)).await?;
    Ok(StatusCode::NO_CONTENT)
}

/// A household.
#[derive(Serialize, ToSchema)]
pub struct HouseholdOut {
    id: String,
    label: String,
    site_id: Option<String>,
    member_count: i64,
}

impl From<lantern_store::Household> for HouseholdOut {
    fn from(h: lantern_store::Household) -> Self {
        HouseholdOut {
            id: h.id.to_string(),
            label: h.label,
            site_id: h.site_id.map(|s| s.to_string()),
            member_count: h.member_count,
        }
    }
}

/// A new household.
#[derive(Deserialize, ToSchema)]
pub struct HouseholdIn {
    label: String,
    #[serde(default)]
    site_id: Option<String>,
}

/// Paging parameters.
#[derive(Deserialize, IntoParams)]
pub struct PageParams {
    /// Page, from 1.
    page: Option<u32>,
    /// Page size, 1 to 200.
    size: Option<u32>,
}

#[utoipa::path(get, path = "/households", params(PageParams), tag = "households",
    responses((status = 200, body = [HouseholdOut])))]
async fn list_households(
    State(state): State<AppState>,
    _auth: Authz<need::PersonRead>,
    ApiQuery(p): ApiQuery<PageParams>,
) -> Result<Json<Vec<HouseholdOut>>, AppError> {
    let page = PageRequest::new(p.page.unwrap_or(1), p.size.unwrap_or(50));
    let r = state.db(move |s| s.households(page)).await?;
    Ok(Json(r.items.into_iter().map(Into::into).collect()))
}

#[utoipa::path(post, path = "/households", request_body = HouseholdIn, tag = "households",
    responses((status = 201, body = HouseholdOut), (status = 422, body = ErrorBody)))]
async fn create_household(
    State(state): State<AppState>,
    auth: Authz<need::PersonWrite>,
    ApiJson(body): ApiJson<HouseholdIn>,
) -> Result<Response, AppError> {
    let site = match body.site_id.as_deref().filter(|s| !s.is_empty()) {
        Some(s) => Some(SiteId::parse("site_id", s)?),
        None => None,
    };
    let audit = auth.ctx.audit(state.clock.now());
    let h = state.db(move |s| s.create_household(&body.label, site, &audit)).await?;
    Ok((StatusCode::CREATED, Json(HouseholdOut::from(h))).into_response())
}

/// A household with its members.
#[derive(Serialize, ToSchema)]
pub struct HouseholdDetail {
    household: HouseholdOut,
    members: Vec<PersonSummaryOut>,
}

#[utoipa::path(get, path = "/households/{id}", tag = "households",
    responses((status = 200, body = HouseholdDetail), (status = 404, body = ErrorBody)))]
async fn get_household(
    State(state): State<AppState>,
    _auth: Authz<need::PersonRead>,
    Path(id): Path<String>,
) -> Result<Json<HouseholdDetail>, AppError> {
    let id = HouseholdId::parse("id", &id).map_err(|_| AppError::NotFound)?;
    let (h, members) = state.db(move |s| s.household(id)).await?.ok_or(AppError::NotFound)?;
    Ok(Json(HouseholdDetail {
        household: h.into(),
        members: members.into_iter().map(Into::into).collect(),
    }))
}

/// A site.
#[derive(Serialize, ToSchema)]
pub struct SiteOut {
    id: String,
    name: String,
}

#[utoipa::path(get, path = "/sites", tag = "sites", responses((status = 200, body = [SiteOut])))]
async fn list_sites(
    State(state): State<AppState>,
    _auth: Authz<need::PersonRead>,
) -> Result<Json<Vec<SiteOut>>, AppError> {
    let sites = state.db(|s| s.sites()).await?;
    Ok(Json(
        sites
            .into_iter()
            .map(|s| SiteOut {
                id: s.id.to_string(),
                name: s.name,
            })
            .collect(),
    ))
}

/// An audit event.
#[derive(Serialize, ToSchema)]
pub struct AuditOut {
    seq: i64,
    at: String,
    actor_id: Option<String>,
    actor_name: String,
    action: String,
    record_kind: String,
    record_id: Option<String>,
    request_id: String,
    address: Option<String>,
    detail: String,
}

/// Audit filters.
#[derive(Deserialize, IntoParams)]
pub struct AuditParams {
    /// Login name of the actor.
    actor: Option<String>,
    /// Action code.
    action: Option<String>,
    /// Record id.
    record: Option<String>,
    /// Page, from 1.
    page: Option<u32>,
    /// Page size, 1 to 200.
    size: Option<u32>,
}

#[utoipa::path(get, path = "/audit", params(AuditParams), tag = "audit", responses((status = 200, body = [AuditOut])))]
async fn list_audit(
    State(state): State<AppState>,
    _auth: Authz<need::AuditRead>,
    ApiQuery(p): ApiQuery<AuditParams>,
) -> Result<Json<Vec<AuditOut>>, AppError> {
    let filter = AuditFilter {
        actor: p.actor,
        action: p.action,
        record_id: p.record,
        page: PageRequest::new(p.page.unwrap_or(1), p.size.unwrap_or(100)),
        ..Default::default()
    };
    let r = state.db(move |s| s.audit_events(&filter)).await?;
    Ok(Json(
        r.items
            .into_iter()
            .map(|e| AuditOut {
                seq: e.seq,
                at: rfc3339(e.at),
                actor_id: e.actor_id.map(|a| a.to_string()),
                actor_name: e.actor_name,
                action: e.action,
                record_kind: e.record_kind,
                record_id: e.record_id,
                request_id: e.request_id,
                address: e.address,
                detail: e.detail,
            })
            .collect(),
    ))
}

/// The token's user.
#[derive(Serialize, ToSchema)]
pub struct MeOut {
    id: String,
    username: String,
    display_name: String,
    role: String,
    language: String,
}

#[utoipa::path(get, path = "/me", tag = "account", responses((status = 200, body = MeOut), (status = 401, body = ErrorBody)))]
async fn me(auth: Authz<need::OwnAccount>) -> Json<MeOut> {
    let u = auth.user;
    Json(MeOut {
        id: u.id.to_string(),
        username: u.username.as_str().to_string(),
        display_name: u.display_name,
        role: u.role.code().into(),
        language: u.language.code().into(),
    })
}

struct BearerAuth;

impl utoipa::Modify for BearerAuth {
    fn modify(&self, doc: &mut utoipa::openapi::OpenApi) {
        use utoipa::openapi::security::{HttpAuthScheme, HttpBuilder, SecurityRequirement, SecurityScheme};
        let components = doc.components.get_or_insert_with(Default::default);
        components.add_security_scheme(
            "token",
            SecurityScheme::Http(HttpBuilder::new().scheme(HttpAuthScheme::Bearer).build()),
        );
        doc.security = Some(vec![SecurityRequirement::new("token", Vec::<String>::new())]);
        doc.servers = Some(vec![utoipa::openapi::Server::new("/api/v1")]);
    }
}

/// The OpenAPI description of this API.
#[derive(OpenApi)]
#[openapi(
    info(title = "Lantern API", description = "People registry, households, status and resettlement cases, tracing requests, evidence files, testimonies and dossiers, and audit trail."),
    paths(
        me, list_people, create_person, get_person, update_person, delete_person, get_protected, get_history, get_photo, put_photo,
        add_link, remove_link, list_households, create_household, get_household, list_sites, list_audit,
        crate::api_cases::list_cases, crate::api_cases::create_case, crate::api_cases::get_case,
        crate::api_cases::move_case, crate::api_cases::add_obstacle, crate::api_cases::get_pipeline,
        crate::api_cases::list_notes, crate::api_cases::add_note,
        crate::api_interviews::list_interviews, crate::api_interviews::book_interview,
        crate::api_interviews::record_outcome, crate::api_interviews::bulk_schedule, crate::api_interviews::list_rooms,
        crate::api_interviews::create_room, crate::api_interviews::list_interpreters,
        crate::api_interviews::create_interpreter, crate::api_interviews::get_availability,
        crate::api_interviews::put_availability, crate::api_tracing::list_requests, crate::api_tracing::file_request,
        crate::api_tracing::get_request, crate::api_tracing::edit_request, crate::api_tracing::get_photo, crate::api_tracing::put_photo, crate::api_tracing::get_requester, crate::api_tracing::search,
        crate::api_tracing::decide, crate::api_tracing::move_state, crate::api_tracing::record_consent,
        crate::api_tracing::list_messages, crate::api_tracing::add_message, crate::api_tracing::deliver_message,
        crate::api_tracing::list_visit_rooms, crate::api_tracing::create_visit_room, crate::api_tracing::list_visits,
        crate::api_tracing::book_visit, crate::api_tracing::close_visit, crate::api_tracing::figures,
        crate::api_evidence::list_evidence, crate::api_evidence::upload_evidence, crate::api_evidence::upload_copy,
        crate::api_evidence::get_evidence, crate::api_evidence::get_content, crate::api_evidence::add_transfer,
        crate::api_testimony::list_act_types, crate::api_testimony::add_act_type, crate::api_testimony::list_events,
        crate::api_testimony::create_event, crate::api_testimony::event_corroboration,
        crate::api_testimony::search, crate::api_testimony::create_testimony,
        crate::api_testimony::list_testimonies, crate::api_testimony::get_testimony,
        crate::api_testimony::add_share_decision, crate::api_testimony::list_recipients,
        crate::api_testimony::create_recipient, crate::api_testimony::create_dossier,
        crate::api_testimony::list_dossiers, crate::api_testimony::dossier_bundle,
        crate::api_testimony::list_shared, crate::api_testimony::get_shared, crate::api_testimony::shared_bundle
    ),
    components(schemas(
        crate::api_cases::CaseSummaryOut, crate::api_cases::CasesPage, crate::api_cases::CaseStepOut,
        crate::api_cases::ObstacleOut, crate::api_cases::CaseOut, crate::api_cases::CaseIn, crate::api_cases::StepIn,
        crate::api_cases::ObstacleIn, crate::api_cases::StepFiguresOut, crate::api_cases::ObstacleCountOut,
        crate::api_cases::PipelineOut, crate::api_cases::WeekOut, crate::api_cases::DeparturesOut,
        crate::api_cases::CaseNoteOut, crate::api_cases::CaseNoteIn,
        crate::api_interviews::InterviewOut, crate::api_interviews::BookingIn, crate::api_interviews::OutcomeIn,
        crate::api_interviews::BulkIn, crate::api_interviews::LeftOutOut, crate::api_interviews::BulkOut,
        crate::api_interviews::RoomOut, crate::api_interviews::RoomIn, crate::api_interviews::InterpreterOut,
        crate::api_interviews::InterpreterIn, crate::api_interviews::AvailabilityIo,
        crate::api_tracing::CandidateOut, crate::api_tracing::WhyOut, crate::api_tracing::WordOut, crate::api_tracing::FieldOut, crate::api_tracing::RequestOut, crate::api_tracing::RequestSummaryOut,
        crate::api_tracing::RequestsPage, crate::api_tracing::RequestIn, crate::api_tracing::SoughtIn, crate::api_tracing::SoughtFields, crate::api_tracing::FiledOut,
        crate::api_tracing::RequesterOut, crate::api_tracing::DecisionIn, crate::api_tracing::StateIn,
        crate::api_tracing::ConsentIn, crate::api_tracing::MessageOut, crate::api_tracing::MessageIn,
        crate::api_tracing::VisitRoomOut, crate::api_tracing::VisitRoomIn, crate::api_tracing::VisitOut,
        crate::api_tracing::VisitIn, crate::api_tracing::VisitOutcomeIn, crate::api_tracing::FiguresOut,
        crate::api_evidence::EvidenceOut, crate::api_evidence::CustodyOut, crate::api_evidence::EvidenceDetailOut,
        crate::api_evidence::EvidencePage, crate::api_evidence::EvidenceUpload, crate::api_evidence::TransferIn,
        crate::api_testimony::ActTypeIn, crate::api_testimony::EventIn, crate::api_testimony::ShareIn,
        crate::api_testimony::RecipientIn, crate::api_testimony::DossierIn,
        ErrorBody, ErrorDetail, FieldErrorOut, DuplicateOut, PersonOut, NameOut, LinkOut, PersonSummaryOut, PeoplePage,
        lantern_domain::person::PersonInput, lantern_domain::person::NameInput, lantern_domain::person::DocumentInput,
        PersonUpdate, ProtectedOut, DocumentOut, VersionOut, LinkIn, HouseholdOut, HouseholdIn, HouseholdDetail,
        SiteOut, AuditOut, MeOut
    )),
    modifiers(&BearerAuth)
)]
pub struct ApiDoc;

async fn openapi() -> Response {
    Json(ApiDoc::openapi()).into_response()
}
