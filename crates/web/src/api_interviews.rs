//! The JSON API of interview scheduling (`/api/v1/interviews…`, rooms,
//! interpreters). Bodies go through the pages' parsers, so both refuse the
//! same input with the same field errors. Times are UTC.

use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use axum::{Json, Router};
use lantern_domain::case::{CaseId, CaseStep};
use lantern_domain::interview::InterviewId;
use lantern_domain::person::SiteId;
use lantern_store::{Interpreter, Interview, Room};
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};

use crate::api::{rfc3339, ApiJson, ApiQuery, ErrorBody};
use crate::authz::{need, require_step, Authz};
use crate::error::AppError;
use crate::pages::interviews::{booking_form, bulk_form, day_query, outcome_form, outcome_step, DayParams};
use crate::pages::Pairs;
use crate::AppState;

/// The scheduling routes, nested under `/api/v1`.
pub fn routes() -> Router<AppState> {
    Router::new()
        .route("/interviews", get(list_interviews))
        .route("/interviews/bulk", post(bulk_schedule))
        .route("/interviews/{id}/outcome", post(record_outcome))
        .route("/cases/{id}/interviews", post(book_interview))
        .route("/rooms", get(list_rooms).post(create_room))
        .route("/interpreters", get(list_interpreters).post(create_interpreter))
        .route("/availability/{kind}/{id}", get(get_availability).put(put_availability))
}

/// An interview.
#[derive(Serialize, ToSchema)]
pub struct InterviewOut {
    id: String,
    case_id: String,
    person_name: String,
    /// RFC 3339, UTC.
    starts_at: String,
    ends_at: String,
    room_id: String,
    room_name: String,
    site: String,
    interviewer_id: String,
    interviewer_name: String,
    interpreter_id: Option<String>,
    interpreter_name: Option<String>,
    language: Option<String>,
    /// `scheduled`, `held`, `no_show` or `cancelled`.
    status: String,
    others_present: Option<String>,
}

impl From<Interview> for InterviewOut {
    fn from(i: Interview) -> Self {
        InterviewOut {
            id: i.id.to_string(),
            case_id: i.case.to_string(),
            person_name: i.person_name,
            starts_at: rfc3339(i.slot.start),
            ends_at: rfc3339(i.slot.end),
            room_id: i.room.to_string(),
            room_name: i.room_name,
            site: i.site,
            interviewer_id: i.interviewer.to_string(),
            interviewer_name: i.interviewer_name,
            interpreter_id: i.interpreter.map(|x| x.to_string()),
            interpreter_name: i.interpreter_name,
            language: i.language,
            status: i.status.code().into(),
            others_present: i.others_present,
        }
    }
}

/// Day plan filters.
#[derive(Deserialize, IntoParams)]
pub struct DayQuery {
    /// Site id.
    #[serde(default)]
    site: String,
    /// `YYYY-MM-DD` (default today, UTC).
    #[serde(default)]
    date: String,
}

#[utoipa::path(get, path = "/interviews", params(DayQuery), tag = "interviews",
    responses((status = 200, body = [InterviewOut]), (status = 422, body = ErrorBody), (status = 403, body = ErrorBody)))]
async fn list_interviews(
    State(state): State<AppState>,
    _auth: Authz<need::CaseRead>,
    ApiQuery(q): ApiQuery<DayQuery>,
) -> Result<Json<Vec<InterviewOut>>, AppError> {
    let params = DayParams {
        site: q.site,
        date: q.date,
    };
    let (_, _, query) = day_query(&params, state.clock.now().date())?;
    let list = state.db(move |s| s.interviews(&query)).await?;
    Ok(Json(list.into_iter().map(InterviewOut::from).collect()))
}

/// An interview to book.
#[derive(Deserialize, ToSchema)]
pub struct BookingIn {
    /// `YYYY-MM-DD`.
    date: String,
    /// `HH:MM`, UTC.
    time: String,
    /// 15 to 480.
    minutes: String,
    room_id: String,
    interviewer_id: String,
    #[serde(default)]
    interpreter_id: String,
    /// A language tag.
    #[serde(default)]
    language: String,
}

#[utoipa::path(post, path = "/cases/{id}/interviews", request_body = BookingIn, tag = "interviews",
    responses((status = 201, body = InterviewOut),
        (status = 422, description = "a field refused, or `double-booked` on room_id, interviewer_id, interpreter_id or case_id", body = ErrorBody),
        (status = 403, body = ErrorBody)))]
async fn book_interview(
    State(state): State<AppState>,
    auth: Authz<need::CaseWrite>,
    Path(id): Path<String>,
    ApiJson(b): ApiJson<BookingIn>,
) -> Result<Response, AppError> {
    let case = CaseId::parse("id", &id).map_err(|_| AppError::NotFound)?;
    let form: Pairs = vec![
        ("date".into(), b.date),
        ("time".into(), b.time),
        ("minutes".into(), b.minutes),
        ("room_id".into(), b.room_id),
        ("interviewer_id".into(), b.interviewer_id),
        ("interpreter_id".into(), b.interpreter_id),
        ("language".into(), b.language),
    ];
    let booking = booking_form(case, &form).map_err(AppError::Invalid)?;
    require_step(&state, &auth, CaseStep::InterviewScheduled).await?;
    let audit = auth.ctx.audit(state.clock.now());
    let i = state.db(move |s| s.book_interview(&booking, &audit)).await?;
    Ok((StatusCode::CREATED, Json(InterviewOut::from(i))).into_response())
}

/// What became of an interview.
#[derive(Deserialize, ToSchema)]
pub struct OutcomeIn {
    /// `held`, `no_show` or `cancelled`.
    outcome: String,
    /// For `held`: anyone present besides the resident, the interviewer and
    /// the interpreter (recorded as an obstacle).
    #[serde(default)]
    others_present: String,
}

#[utoipa::path(post, path = "/interviews/{id}/outcome", request_body = OutcomeIn, tag = "interviews",
    responses((status = 200, body = InterviewOut), (status = 409, description = "no longer scheduled", body = ErrorBody),
        (status = 422, body = ErrorBody)))]
async fn record_outcome(
    State(state): State<AppState>,
    auth: Authz<need::CaseWrite>,
    Path(id): Path<String>,
    ApiJson(o): ApiJson<OutcomeIn>,
) -> Result<Json<InterviewOut>, AppError> {
    let id = InterviewId::parse("id", &id).map_err(|_| AppError::NotFound)?;
    let form: Pairs = vec![
        ("outcome".into(), o.outcome),
        ("others_present".into(), o.others_present),
    ];
    let outcome = outcome_form(&form).map_err(AppError::Invalid)?;
    require_step(&state, &auth, outcome_step(&outcome)).await?;
    let audit = auth.ctx.audit(state.clock.now());
    let i = state.db(move |s| s.close_interview(id, &outcome, &audit)).await?;
    Ok(Json(InterviewOut::from(i)))
}

/// A day to fill with the waiting cases of a site.
#[derive(Deserialize, ToSchema)]
pub struct BulkIn {
    site: String,
    /// `YYYY-MM-DD`.
    date: String,
    /// `HH:MM`, UTC: the first slot.
    first: String,
    /// `HH:MM`, UTC: no interview ends later.
    last_end: String,
    minutes: String,
    interviewer_id: String,
    #[serde(default)]
    interpreter_id: String,
    #[serde(default)]
    language: String,
    /// Case ids, in the order to book them.
    cases: Vec<String>,
}

/// A case bulk scheduling left out.
#[derive(Serialize, ToSchema)]
pub struct LeftOutOut {
    case_id: String,
    /// `not-found`, `step-not-allowed` or `double-booked` (no free slot).
    reason: String,
}

/// What a bulk scheduling did.
#[derive(Serialize, ToSchema)]
pub struct BulkOut {
    booked: Vec<InterviewOut>,
    left_out: Vec<LeftOutOut>,
}

#[utoipa::path(post, path = "/interviews/bulk", request_body = BulkIn, tag = "interviews",
    responses((status = 200, body = BulkOut), (status = 422, body = ErrorBody), (status = 403, body = ErrorBody)))]
async fn bulk_schedule(
    State(state): State<AppState>,
    auth: Authz<need::CaseWrite>,
    ApiJson(b): ApiJson<BulkIn>,
) -> Result<Json<BulkOut>, AppError> {
    let mut form: Pairs = vec![
        ("site".into(), b.site),
        ("date".into(), b.date),
        ("first".into(), b.first),
        ("last_end".into(), b.last_end),
        ("minutes".into(), b.minutes),
        ("interviewer_id".into(), b.interviewer_id),
        ("interpreter_id".into(), b.interpreter_id),
        ("language".into(), b.language),
    ];
    form.extend(b.cases.into_iter().map(|c| ("case".to_string(), c)));
    let plan = bulk_form(&form).map_err(AppError::Invalid)?;
    require_step(&state, &auth, CaseStep::InterviewScheduled).await?;
    let audit = auth.ctx.audit(state.clock.now());
    let result = state.db(move |s| s.bulk_schedule(&plan, &audit)).await?;
    Ok(Json(BulkOut {
        booked: result.booked.into_iter().map(InterviewOut::from).collect(),
        left_out: result
            .left_out
            .into_iter()
            .map(|(c, r)| LeftOutOut {
                case_id: c.to_string(),
                reason: r.into(),
            })
            .collect(),
    }))
}

/// An interview room.
#[derive(Serialize, ToSchema)]
pub struct RoomOut {
    id: String,
    site_id: String,
    site: String,
    name: String,
}

impl From<Room> for RoomOut {
    fn from(r: Room) -> Self {
        RoomOut {
            id: r.id.to_string(),
            site_id: r.site_id.to_string(),
            site: r.site,
            name: r.name,
        }
    }
}

/// A room to add.
#[derive(Deserialize, ToSchema)]
pub struct RoomIn {
    site_id: String,
    name: String,
}

#[utoipa::path(get, path = "/rooms", tag = "interviews", responses((status = 200, body = [RoomOut])))]
async fn list_rooms(
    State(state): State<AppState>,
    _auth: Authz<need::CaseRead>,
) -> Result<Json<Vec<RoomOut>>, AppError> {
    Ok(Json(
        state.db(|s| s.rooms()).await?.into_iter().map(RoomOut::from).collect(),
    ))
}

#[utoipa::path(post, path = "/rooms", request_body = RoomIn, tag = "interviews",
    responses((status = 201, body = RoomOut), (status = 422, body = ErrorBody), (status = 403, body = ErrorBody)))]
async fn create_room(
    State(state): State<AppState>,
    auth: Authz<need::SiteManage>,
    ApiJson(r): ApiJson<RoomIn>,
) -> Result<Response, AppError> {
    let site = SiteId::parse("site_id", &r.site_id)?;
    let audit = auth.ctx.audit(state.clock.now());
    let room = state.db(move |s| s.create_room(site, &r.name, &audit)).await?;
    Ok((StatusCode::CREATED, Json(RoomOut::from(room))).into_response())
}

/// An interpreter.
#[derive(Serialize, ToSchema)]
pub struct InterpreterOut {
    id: String,
    name: String,
    languages: Vec<String>,
}

impl From<Interpreter> for InterpreterOut {
    fn from(i: Interpreter) -> Self {
        InterpreterOut {
            id: i.id.to_string(),
            name: i.name,
            languages: i.languages,
        }
    }
}

/// An interpreter to add.
#[derive(Deserialize, ToSchema)]
pub struct InterpreterIn {
    name: String,
    /// Language tags (`fa`, `ar`, `ckb` …).
    languages: Vec<String>,
}

#[utoipa::path(get, path = "/interpreters", tag = "interviews", responses((status = 200, body = [InterpreterOut])))]
async fn list_interpreters(
    State(state): State<AppState>,
    _auth: Authz<need::CaseRead>,
) -> Result<Json<Vec<InterpreterOut>>, AppError> {
    Ok(Json(
        state
            .db(|s| s.interpreters())
            .await?
            .into_iter()
            .map(InterpreterOut::from)
            .collect(),
    ))
}

#[utoipa::path(post, path = "/interpreters", request_body = InterpreterIn, tag = "interviews",
    responses((status = 201, body = InterpreterOut), (status = 422, body = ErrorBody), (status = 403, body = ErrorBody)))]
async fn create_interpreter(
    State(state): State<AppState>,
    auth: Authz<need::SiteManage>,
    ApiJson(i): ApiJson<InterpreterIn>,
) -> Result<Response, AppError> {
    let audit = auth.ctx.audit(state.clock.now());
    let created = state
        .db(move |s| s.create_interpreter(&i.name, &i.languages, &audit))
        .await?;
    Ok((StatusCode::CREATED, Json(InterpreterOut::from(created))).into_response())
}

/// Weekly hours, in UTC.
#[derive(Serialize, Deserialize, ToSchema)]
pub struct AvailabilityIo {
    /// Windows such as `mon 09:00-17:00`; none: available at any time.
    windows: Vec<String>,
}

fn who(kind: &str, id: &str) -> Result<(lantern_domain::interview::ResourceKind, uuid::Uuid), AppError> {
    Ok(crate::pages::interviews::resource("id", &format!("{kind}:{id}"))?)
}

#[utoipa::path(get, path = "/availability/{kind}/{id}", tag = "interviews",
    params(("kind" = String, Path, description = "interviewer or interpreter"), ("id" = String, Path, description = "user or interpreter id")),
    responses((status = 200, body = AvailabilityIo), (status = 422, body = ErrorBody)))]
async fn get_availability(
    State(state): State<AppState>,
    _auth: Authz<need::CaseRead>,
    Path((kind, id)): Path<(String, String)>,
) -> Result<Json<AvailabilityIo>, AppError> {
    let (kind, id) = who(&kind, &id)?;
    let windows = state.db(move |s| s.availability(kind, id)).await?;
    Ok(Json(AvailabilityIo {
        windows: windows.iter().map(lantern_domain::interview::Window::to_text).collect(),
    }))
}

#[utoipa::path(put, path = "/availability/{kind}/{id}", request_body = AvailabilityIo, tag = "interviews",
    params(("kind" = String, Path, description = "interviewer or interpreter"), ("id" = String, Path, description = "user or interpreter id")),
    responses((status = 200, body = AvailabilityIo), (status = 422, body = ErrorBody), (status = 403, body = ErrorBody)))]
async fn put_availability(
    State(state): State<AppState>,
    auth: Authz<need::SiteManage>,
    Path((kind, id)): Path<(String, String)>,
    ApiJson(body): ApiJson<AvailabilityIo>,
) -> Result<Json<AvailabilityIo>, AppError> {
    let (kind, id) = who(&kind, &id)?;
    let windows = lantern_domain::interview::windows("windows", &body.windows.join(";"))?;
    let audit = auth.ctx.audit(state.clock.now());
    let stored = windows.clone();
    state.db(move |s| s.set_availability(kind, id, &stored, &audit)).await?;
    Ok(Json(AvailabilityIo {
        windows: windows.iter().map(lantern_domain::interview::Window::to_text).collect(),
    }))
}
