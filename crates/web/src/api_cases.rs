//! The JSON API of status and resettlement cases (`/api/v1/cases…`). Bodies
//! are parsed by the same functions as the pages' forms, so both refuse the
//! same input with the same field errors.

use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use axum::{Json, Router};
use lantern_domain::case::CaseId;
use lantern_domain::person::PersonId;
use lantern_store::{Case, CaseNote, CaseSummary, Obstacle, Pipeline};
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};

use crate::api::{rfc3339, ApiJson, ApiQuery, ErrorBody};
use crate::authz::{need, require_step, Authz};
use crate::error::AppError;
use crate::pages::cases::{case_query, note_form, obstacle_form, step_form, ListParams, PipelineParams};
use crate::pages::Pairs;
use crate::AppState;

/// The case routes, nested under `/api/v1`.
pub fn routes() -> Router<AppState> {
    Router::new()
        .route("/cases", get(list_cases).post(create_case))
        .route("/cases/pipeline", get(get_pipeline))
        .route("/cases/{id}", get(get_case))
        .route("/cases/{id}/steps", post(move_case))
        .route("/cases/{id}/obstacles", post(add_obstacle))
        .route("/cases/{id}/notes", get(list_notes).post(add_note))
}

fn case_id(raw: &str) -> Result<CaseId, AppError> {
    CaseId::parse("id", raw).map_err(|_| AppError::NotFound)
}

/// A case in a list.
#[derive(Serialize, ToSchema)]
pub struct CaseSummaryOut {
    id: String,
    person_name: String,
    household_label: Option<String>,
    site: Option<String>,
    /// Step code (`registered`, `interview_scheduled` …).
    step: String,
    /// Since when (RFC 3339).
    step_at: String,
    obstacles: u64,
}

impl From<CaseSummary> for CaseSummaryOut {
    fn from(c: CaseSummary) -> Self {
        CaseSummaryOut {
            id: c.id.to_string(),
            person_name: c.person_name,
            household_label: c.household_label,
            site: c.site,
            step: c.step.code().into(),
            step_at: rfc3339(c.step_at),
            obstacles: c.obstacles,
        }
    }
}

/// One page of cases, longest waiting at their step first.
#[derive(Serialize, ToSchema)]
pub struct CasesPage {
    items: Vec<CaseSummaryOut>,
    page: u32,
    size: u32,
    total: u64,
}

/// One step of a case's history.
#[derive(Serialize, ToSchema)]
pub struct CaseStepOut {
    step: String,
    at: String,
    actor_name: String,
    country: Option<String>,
}

/// An obstacle.
#[derive(Serialize, ToSchema)]
pub struct ObstacleOut {
    id: String,
    /// Obstacle code (`access_denied`, `did_not_attend` …).
    obstacle: String,
    /// `YYYY-MM-DD`.
    occurred_on: String,
    by_whom: Option<String>,
    detail: Option<String>,
    recorded_at: String,
    actor_name: String,
}

impl From<Obstacle> for ObstacleOut {
    fn from(o: Obstacle) -> Self {
        ObstacleOut {
            id: o.id.to_string(),
            obstacle: o.kind.code().into(),
            occurred_on: o.occurred_on.to_string(),
            by_whom: o.by_whom,
            detail: o.detail,
            recorded_at: rfc3339(o.recorded_at),
            actor_name: o.actor_name,
        }
    }
}

/// A case with its steps and obstacles.
#[derive(Serialize, ToSchema)]
pub struct CaseOut {
    id: String,
    version: i64,
    person_id: String,
    person_name: String,
    household_id: Option<String>,
    household_label: Option<String>,
    site: Option<String>,
    step: String,
    step_at: String,
    country: Option<String>,
    /// The steps that may follow (whether the caller's role may record
    /// them is a separate rule).
    next: Vec<String>,
    steps: Vec<CaseStepOut>,
    obstacles: Vec<ObstacleOut>,
}

impl From<Case> for CaseOut {
    fn from(c: Case) -> Self {
        CaseOut {
            id: c.id.to_string(),
            version: c.version,
            person_id: c.person.to_string(),
            person_name: c.person_name,
            household_id: c.household.map(|h| h.to_string()),
            household_label: c.household_label,
            site: c.site,
            step: c.step.code().into(),
            step_at: rfc3339(c.step_at),
            country: c.country,
            next: c.step.next().iter().map(|s| s.code().to_string()).collect(),
            steps: c
                .steps
                .into_iter()
                .map(|s| CaseStepOut {
                    step: s.step.code().into(),
                    at: rfc3339(s.at),
                    actor_name: s.actor_name,
                    country: s.country,
                })
                .collect(),
            obstacles: c.obstacles.into_iter().map(ObstacleOut::from).collect(),
        }
    }
}

/// List filters.
#[derive(Deserialize, IntoParams)]
pub struct CasesParams {
    /// Step code.
    #[serde(default)]
    step: String,
    /// Site id.
    #[serde(default)]
    site: String,
    /// Page (from 1).
    #[serde(default)]
    page: Option<u32>,
}

#[utoipa::path(get, path = "/cases", params(CasesParams), tag = "cases",
    responses((status = 200, body = CasesPage), (status = 422, body = ErrorBody), (status = 403, body = ErrorBody)))]
async fn list_cases(
    State(state): State<AppState>,
    _auth: Authz<need::CaseRead>,
    ApiQuery(p): ApiQuery<CasesParams>,
) -> Result<Json<CasesPage>, AppError> {
    let query = case_query(&ListParams::new(p.step, p.site, p.page))?;
    let page = state.db(move |s| s.cases(&query)).await?;
    Ok(Json(CasesPage {
        items: page.items.into_iter().map(CaseSummaryOut::from).collect(),
        page: page.page,
        size: page.size,
        total: page.total,
    }))
}

/// A case to open.
#[derive(Deserialize, ToSchema)]
pub struct CaseIn {
    /// The resident.
    person_id: String,
    /// Cover the resident's household.
    #[serde(default)]
    whole_household: bool,
}

#[utoipa::path(post, path = "/cases", request_body = CaseIn, tag = "cases",
    responses((status = 201, body = CaseOut), (status = 422, description = "person_id not-found or duplicate (an open case exists)", body = ErrorBody),
        (status = 403, body = ErrorBody)))]
async fn create_case(
    State(state): State<AppState>,
    auth: Authz<need::CaseWrite>,
    ApiJson(body): ApiJson<CaseIn>,
) -> Result<Response, AppError> {
    let person = PersonId::parse("person_id", &body.person_id)?;
    let audit = auth.ctx.audit(state.clock.now());
    let case = state
        .db(move |s| s.create_case(person, body.whole_household, &audit))
        .await?;
    Ok((StatusCode::CREATED, Json(CaseOut::from(case))).into_response())
}

#[utoipa::path(get, path = "/cases/{id}", tag = "cases",
    responses((status = 200, body = CaseOut), (status = 404, body = ErrorBody)))]
async fn get_case(
    State(state): State<AppState>,
    _auth: Authz<need::CaseRead>,
    Path(id): Path<String>,
) -> Result<Json<CaseOut>, AppError> {
    let id = case_id(&id)?;
    let case = state.db(move |s| s.case(id)).await?.ok_or(AppError::NotFound)?;
    Ok(Json(CaseOut::from(case)))
}

/// A step to record.
#[derive(Deserialize, ToSchema)]
pub struct StepIn {
    /// The step the case is at now (a stale one is a 409 conflict).
    expected: String,
    /// The step reached.
    step: String,
    /// The resettlement country, for `submitted`.
    #[serde(default)]
    country: String,
}

#[utoipa::path(post, path = "/cases/{id}/steps", request_body = StepIn, tag = "cases",
    responses((status = 200, body = CaseOut), (status = 403, description = "the role does not record this step", body = ErrorBody),
        (status = 409, body = ErrorBody), (status = 422, description = "step-not-allowed after the current step, or a field refused", body = ErrorBody)))]
async fn move_case(
    State(state): State<AppState>,
    auth: Authz<need::CaseWrite>,
    Path(id): Path<String>,
    ApiJson(body): ApiJson<StepIn>,
) -> Result<Json<CaseOut>, AppError> {
    let id = case_id(&id)?;
    let form: Pairs = vec![
        ("expected".into(), body.expected),
        ("step".into(), body.step),
        ("country".into(), body.country),
    ];
    let (expected, to, country) = step_form(&form).map_err(AppError::Invalid)?;
    require_step(&state, &auth, to).await?;
    let audit = auth.ctx.audit(state.clock.now());
    let case = state
        .db(move |s| s.move_case(id, expected, to, country, &audit))
        .await?;
    Ok(Json(CaseOut::from(case)))
}

/// An obstacle to record.
#[derive(Deserialize, ToSchema)]
pub struct ObstacleIn {
    /// Obstacle code.
    obstacle: String,
    /// `YYYY-MM-DD` (default: today).
    #[serde(default)]
    occurred_on: String,
    /// Who denied access, or who else was present.
    #[serde(default)]
    by_whom: String,
    /// What happened (required for `other`).
    #[serde(default)]
    detail: String,
}

#[utoipa::path(post, path = "/cases/{id}/obstacles", request_body = ObstacleIn, tag = "cases",
    responses((status = 201, body = ObstacleOut), (status = 404, body = ErrorBody), (status = 422, body = ErrorBody)))]
async fn add_obstacle(
    State(state): State<AppState>,
    auth: Authz<need::CaseWrite>,
    Path(id): Path<String>,
    ApiJson(body): ApiJson<ObstacleIn>,
) -> Result<Response, AppError> {
    let id = case_id(&id)?;
    let form: Pairs = vec![
        ("obstacle".into(), body.obstacle),
        ("occurred_on".into(), body.occurred_on),
        ("by_whom".into(), body.by_whom),
        ("detail".into(), body.detail),
    ];
    let obstacle = obstacle_form(&form, state.clock.now().date()).map_err(AppError::Invalid)?;
    let audit = auth.ctx.audit(state.clock.now());
    let o = state.db(move |s| s.add_obstacle(id, &obstacle, &audit)).await?;
    Ok((StatusCode::CREATED, Json(ObstacleOut::from(o))).into_response())
}

/// The figures of one step.
#[derive(Serialize, ToSchema)]
pub struct StepFiguresOut {
    step: String,
    current: u64,
    reached: u64,
    waiting_median_days: Option<f64>,
    waiting_p90_days: Option<f64>,
}

/// Obstacles of one kind.
#[derive(Serialize, ToSchema)]
pub struct ObstacleCountOut {
    obstacle: String,
    count: u64,
}

/// The pipeline's aggregate figures (never a person).
#[derive(Serialize, ToSchema)]
pub struct PipelineOut {
    total: u64,
    steps: Vec<StepFiguresOut>,
    obstacles: Vec<ObstacleCountOut>,
    weeks: Vec<WeekOut>,
    departures: Vec<DeparturesOut>,
}

/// Interviews of one week, by outcome.
#[derive(Serialize, ToSchema)]
pub struct WeekOut {
    /// The Monday, `YYYY-MM-DD`.
    week: String,
    scheduled: u64,
    held: u64,
    no_show: u64,
    cancelled: u64,
}

/// Departures of one month to one country.
#[derive(Serialize, ToSchema)]
pub struct DeparturesOut {
    /// The month's first day, `YYYY-MM-DD`.
    month: String,
    country: Option<String>,
    count: u64,
}

impl From<Pipeline> for PipelineOut {
    fn from(p: Pipeline) -> Self {
        PipelineOut {
            total: p.total,
            steps: p
                .steps
                .into_iter()
                .map(|f| StepFiguresOut {
                    step: f.step.code().into(),
                    current: f.current,
                    reached: f.reached,
                    waiting_median_days: f.waiting_median_days,
                    waiting_p90_days: f.waiting_p90_days,
                })
                .collect(),
            obstacles: p
                .obstacles
                .into_iter()
                .map(|(k, n)| ObstacleCountOut {
                    obstacle: k.code().into(),
                    count: n,
                })
                .collect(),
            weeks: p
                .weeks
                .into_iter()
                .map(|w| WeekOut {
                    week: w.week.to_string(),
                    scheduled: w.scheduled,
                    held: w.held,
                    no_show: w.no_show,
                    cancelled: w.cancelled,
                })
                .collect(),
            departures: p
                .departures
                .into_iter()
                .map(|d| DeparturesOut {
                    month: d.month.to_string(),
                    country: d.country,
                    count: d.count,
                })
                .collect(),
        }
    }
}

/// Pipeline filter.
#[derive(Deserialize, IntoParams)]
pub struct PipelineQuery {
    /// Site id.
    #[serde(default)]
    site: String,
    /// `YYYY-MM-DD`: interviews, obstacles and departures from this day
    /// (default: 12 weeks ago).
    #[serde(default)]
    from: String,
    /// `YYYY-MM-DD`: … up to this day (default: 4 weeks from today).
    #[serde(default)]
    until: String,
}

#[utoipa::path(get, path = "/cases/pipeline", params(PipelineQuery), tag = "cases",
    responses((status = 200, body = PipelineOut), (status = 403, body = ErrorBody)))]
async fn get_pipeline(
    State(state): State<AppState>,
    _auth: Authz<need::DashboardView>,
    ApiQuery(q): ApiQuery<PipelineQuery>,
) -> Result<Json<PipelineOut>, AppError> {
    let now = state.clock.now();
    let query = crate::pages::cases::pipeline_query(&PipelineParams::new(q.site, q.from, q.until), now.date())?;
    let p = state.db(move |s| s.pipeline(&query, now)).await?;
    Ok(Json(PipelineOut::from(p)))
}

/// A case note (`text` only when read).
#[derive(Serialize, ToSchema)]
pub struct CaseNoteOut {
    id: String,
    /// `note` or `decision`.
    note_kind: String,
    about_id: Option<String>,
    about_name: Option<String>,
    /// Kept from the rest of the household.
    confidential: bool,
    author_name: String,
    at: String,
    text: Option<String>,
}

impl From<CaseNote> for CaseNoteOut {
    fn from(n: CaseNote) -> Self {
        let (about_id, about_name) = match n.about {
            Some((id, name)) => (Some(id.to_string()), Some(name)),
            None => (None, None),
        };
        CaseNoteOut {
            id: n.id.to_string(),
            note_kind: n.kind.code().into(),
            about_id,
            about_name,
            confidential: n.confidential,
            author_name: n.author_name,
            at: rfc3339(n.at),
            text: n.text,
        }
    }
}

/// Which notes to read.
#[derive(Deserialize, IntoParams)]
pub struct NotesParams {
    /// Only what the household may be given (leaves out what a member keeps
    /// from the others).
    #[serde(default)]
    household_copy: bool,
}

#[utoipa::path(get, path = "/cases/{id}/notes", params(NotesParams), tag = "cases",
    responses((status = 200, description = "the notes with their text (an audited read)", body = [CaseNoteOut]),
        (status = 403, body = ErrorBody), (status = 404, body = ErrorBody)))]
async fn list_notes(
    State(state): State<AppState>,
    auth: Authz<need::CaseNotes>,
    Path(id): Path<String>,
    ApiQuery(p): ApiQuery<NotesParams>,
) -> Result<Json<Vec<CaseNoteOut>>, AppError> {
    let id = case_id(&id)?;
    let audit = auth.ctx.audit(state.clock.now());
    let notes = state
        .db(move |s| s.read_case_notes(id, p.household_copy, &audit))
        .await?;
    Ok(Json(notes.into_iter().map(CaseNoteOut::from).collect()))
}

/// A note to write.
#[derive(Deserialize, ToSchema)]
pub struct CaseNoteIn {
    /// `note` or `decision`.
    note_kind: String,
    /// A member of the case's household (or the resident).
    #[serde(default)]
    about: String,
    /// Kept from the rest of the household.
    #[serde(default)]
    confidential: bool,
    text: String,
}

#[utoipa::path(post, path = "/cases/{id}/notes", request_body = CaseNoteIn, tag = "cases",
    responses((status = 201, body = CaseNoteOut), (status = 422, body = ErrorBody), (status = 403, body = ErrorBody)))]
async fn add_note(
    State(state): State<AppState>,
    auth: Authz<need::CaseNotes>,
    Path(id): Path<String>,
    ApiJson(n): ApiJson<CaseNoteIn>,
) -> Result<Response, AppError> {
    let id = case_id(&id)?;
    let form: Pairs = vec![
        ("note_kind".into(), n.note_kind),
        ("about".into(), n.about),
        ("confidential".into(), n.confidential.to_string()),
        ("text".into(), n.text),
    ];
    let note = note_form(&form).map_err(AppError::Invalid)?;
    let audit = auth.ctx.audit(state.clock.now());
    let created = state.db(move |s| s.add_case_note(id, &note, &audit)).await?;
    Ok((StatusCode::CREATED, Json(CaseNoteOut::from(created))).into_response())
}
