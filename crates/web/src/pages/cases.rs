//! Status and resettlement cases: the list, one case with its steps and
//! obstacles, and the pipeline dashboard with its HXL export.

use askama::Template;
use axum::extract::{Path, Query, State};
use axum::http::header;
use axum::response::{IntoResponse, Redirect, Response};
use axum::Form;
use lantern_domain::case::{country, optional_text, CaseId, CaseStep, NoteKind, ObstacleKind};
use lantern_domain::person::{PersonId, SiteId};
use lantern_domain::{FieldErrors, Reason};
use lantern_store::{
    Case, CaseNote, CaseQuery, CaseSummary, NewCaseNote, NewObstacle, Page as ResultPage, PageRequest, Pipeline, Site,
};
use serde::Deserialize;

use super::{field, no_errors, Pairs};
use crate::authz::{need, require_step, Authz};
use crate::context::Ctx;
use crate::error::AppError;
use crate::view::{render, render_status, Page};
use crate::AppState;

/// Cases per page.
const PAGE_SIZE: u32 = 50;

fn case_id(raw: &str) -> Result<CaseId, AppError> {
    CaseId::parse("id", raw).map_err(|_| AppError::NotFound)
}

/// The list's filters, as the query string gives them.
#[derive(Debug, Default, Deserialize)]
pub(crate) struct ListParams {
    #[serde(default)]
    step: String,
    #[serde(default)]
    site: String,
    #[serde(default)]
    page: Option<u32>,
}

impl ListParams {
    pub(crate) fn new(step: String, site: String, page: Option<u32>) -> Self {
        ListParams { step, site, page }
    }
}

/// Parses the filters; an unknown value is a field error, not an empty list.
pub(crate) fn case_query(p: &ListParams) -> Result<CaseQuery, AppError> {
    let mut errors = FieldErrors::new();
    let step = match p.step.as_str() {
        "" => None,
        s => errors.take(CaseStep::parse("step", s)),
    };
    let site = match p.site.as_str() {
        "" => None,
        s => errors.take(SiteId::parse("site", s)),
    };
    if !errors.is_empty() {
        return Err(AppError::Invalid(errors));
    }
    Ok(CaseQuery {
        step,
        site,
        page: PageRequest::new(p.page.unwrap_or(1), PAGE_SIZE),
    })
}

#[derive(Template)]
#[template(path = "cases.html")]
struct ListPage {
    c: Page,
    result: ResultPage<CaseSummary>,
    steps: Vec<&'static str>,
    sites: Vec<Site>,
    step: String,
    site: String,
    query_string: String,
}

pub(crate) async fn list(
    State(state): State<AppState>,
    auth: Authz<need::CaseRead>,
    Query(params): Query<ListParams>,
) -> Result<Response, AppError> {
    let query = case_query(&params)?;
    let result = state.db(move |s| s.cases(&query)).await?;
    let sites = state.db(|s| s.sites()).await?;
    let query_string = form_urlencoded::Serializer::new(String::new())
        .append_pair("step", &params.step)
        .append_pair("site", &params.site)
        .finish();
    Ok(render(&ListPage {
        c: Page::new(&state, &auth.ctx, "cases-title"),
        result,
        steps: CaseStep::ALL.iter().map(|s| s.code()).collect(),
        sites,
        step: params.step,
        site: params.site,
        query_string,
    }))
}

/// Opens a case for a resident (from the person's page).
pub(crate) async fn create(
    State(state): State<AppState>,
    auth: Authz<need::CaseWrite>,
    Form(form): Form<Pairs>,
) -> Result<Response, AppError> {
    let person = PersonId::parse("person_id", field(&form, "person_id"))?;
    let whole_household = field(&form, "whole_household") == "on";
    let audit = auth.ctx.audit(state.clock.now());
    let case = state
        .db(move |s| s.create_case(person, whole_household, &audit))
        .await?;
    Ok(Redirect::to(&format!("/cases/{}", case.id)).into_response())
}

#[derive(Template)]
#[template(path = "case_view.html")]
struct ViewPage {
    c: Page,
    case: Case,
    /// The case's notes without their text, for roles that read notes.
    notes: Option<Vec<CaseNote>>,
    /// Who a note may be about: the resident and the household's members.
    members: Vec<(String, String)>,
    next: Vec<&'static str>,
    kinds: Vec<&'static str>,
    today: String,
    errors: FieldErrors,
    form: Pairs,
}

impl ViewPage {
    fn value(&self, name: &str) -> &str {
        field(&self.form, name)
    }
}

async fn view_page(
    state: &AppState,
    auth_ctx: &Ctx,
    id: CaseId,
    errors: FieldErrors,
    form: Pairs,
) -> Result<Response, AppError> {
    let case = state.db(move |s| s.case(id)).await?.ok_or(AppError::NotFound)?;
    let role = auth_ctx.user.as_ref().map(|u| u.role);
    let reads_notes =
        role.is_some_and(|r| lantern_domain::policy::allows(r, lantern_domain::policy::Permission::CaseNotes));
    let notes = if reads_notes {
        Some(state.db(move |s| s.case_notes(id)).await?)
    } else {
        None
    };
    let mut members = vec![(case.person.to_string(), case.person_name.clone())];
    if let (true, Some(h)) = (reads_notes, case.household) {
        if let Some((_, people)) = state.db(move |s| s.household(h)).await? {
            members.extend(
                people
                    .into_iter()
                    .filter(|p| p.id != case.person)
                    .map(|p| (p.id.to_string(), p.primary_name.text.as_str().to_string())),
            );
        }
    }
    // Only the steps this user may record are offered.
    let next = case
        .step
        .next()
        .into_iter()
        .filter(|s| role.is_some_and(|r| lantern_domain::policy::allows_step(r, *s)))
        .map(|s| s.code())
        .collect();
    Ok(render_status(
        super::form_status(&errors),
        &ViewPage {
            c: Page::new(state, auth_ctx, "case-title"),
            case,
            notes,
            members,
            next,
            kinds: ObstacleKind::ALL.iter().map(|k| k.code()).collect(),
            today: state.clock.now().date().to_string(),
            errors,
            form,
        },
    ))
}

pub(crate) async fn show(
    State(state): State<AppState>,
    auth: Authz<need::CaseRead>,
    Path(id): Path<String>,
) -> Result<Response, AppError> {
    view_page(&state, &auth.ctx, case_id(&id)?, no_errors(), Vec::new()).await
}

/// The step a form asks for, with its country; every refused field at once.
pub(crate) fn step_form(form: &Pairs) -> Result<(CaseStep, CaseStep, Option<String>), FieldErrors> {
    let mut errors = FieldErrors::new();
    let expected = errors.take(CaseStep::parse("expected", field(form, "expected")));
    let to = errors.take(CaseStep::parse("step", field(form, "step")));
    let country = match to {
        Some(s) if s.needs_country() => errors.take(country("country", field(form, "country"))),
        _ => None,
    };
    match (expected, to, errors.is_empty()) {
        (Some(e), Some(t), true) => Ok((e, t, country)),
        _ => Err(errors),
    }
}

pub(crate) async fn step(
    State(state): State<AppState>,
    auth: Authz<need::CaseWrite>,
    Path(id): Path<String>,
    Form(form): Form<Pairs>,
) -> Result<Response, AppError> {
    let id = case_id(&id)?;
    let (expected, to, country) = match step_form(&form) {
        Ok(v) => v,
        Err(errors) => return view_page(&state, &auth.ctx, id, errors, form).await,
    };
    require_step(&state, &auth, to).await?;
    let audit = auth.ctx.audit(state.clock.now());
    match state.db(move |s| s.move_case(id, expected, to, country, &audit)).await {
        Ok(_) => Ok(Redirect::to(&format!("/cases/{id}")).into_response()),
        Err(AppError::Invalid(errors)) => view_page(&state, &auth.ctx, id, errors, form).await,
        Err(e) => Err(e),
    }
}

/// An obstacle as a form gives it; every refused field at once.
pub(crate) fn obstacle_form(form: &Pairs, today: time::Date) -> Result<NewObstacle, FieldErrors> {
    let mut errors = FieldErrors::new();
    let kind = errors.take(ObstacleKind::parse("obstacle", field(form, "obstacle")));
    let occurred_on = match field(form, "occurred_on").trim() {
        "" => Some(today),
        raw => match time::Date::parse(raw, time::macros::format_description!("[year]-[month]-[day]")) {
            Ok(d) if d > today => {
                errors.push("occurred_on", Reason::DateInFuture);
                None
            }
            Ok(d) => Some(d),
            Err(_) => {
                errors.push("occurred_on", Reason::InvalidDate);
                None
            }
        },
    };
    let by_whom = errors.take(optional_text("by_whom", field(form, "by_whom"))).flatten();
    let detail = errors.take(optional_text("detail", field(form, "detail"))).flatten();
    if kind == Some(ObstacleKind::Other) && detail.is_none() && errors.for_field("detail").is_none() {
        errors.push("detail", Reason::Required);
    }
    match (kind, occurred_on, errors.is_empty()) {
        (Some(kind), Some(occurred_on), true) => Ok(NewObstacle {
            kind,
            occurred_on,
            by_whom,
            detail,
        }),
        _ => Err(errors),
    }
}

pub(crate) async fn add_obstacle(
    State(state): State<AppState>,
    auth: Authz<need::CaseWrite>,
    Path(id): Path<String>,
    Form(form): Form<Pairs>,
) -> Result<Response, AppError> {
    let id = case_id(&id)?;
    let obstacle = match obstacle_form(&form, state.clock.now().date()) {
        Ok(o) => o,
        Err(errors) => return view_page(&state, &auth.ctx, id, errors, form).await,
    };
    let audit = auth.ctx.audit(state.clock.now());
    state.db(move |s| s.add_obstacle(id, &obstacle, &audit)).await?;
    Ok(Redirect::to(&format!("/cases/{id}#obstacles")).into_response())
}

/// A note as a form gives it; every refused field at once.
pub(crate) fn note_form(form: &Pairs) -> Result<NewCaseNote, FieldErrors> {
    let mut errors = FieldErrors::new();
    let kind = errors.take(NoteKind::parse("note_kind", field(form, "note_kind")));
    let about = match field(form, "about").trim() {
        "" => None,
        raw => errors.take(PersonId::parse("about", raw)),
    };
    let text = errors.take(lantern_domain::case::note_text("text", field(form, "text")));
    let confidential = matches!(field(form, "confidential"), "on" | "true");
    match (kind, text, errors.is_empty()) {
        (Some(kind), Some(text), true) => Ok(NewCaseNote {
            kind,
            about,
            confidential,
            text,
        }),
        _ => Err(errors),
    }
}

pub(crate) async fn add_note(
    State(state): State<AppState>,
    auth: Authz<need::CaseNotes>,
    Path(id): Path<String>,
    Form(form): Form<Pairs>,
) -> Result<Response, AppError> {
    let id = case_id(&id)?;
    let note = match note_form(&form) {
        Ok(n) => n,
        Err(errors) => return view_page(&state, &auth.ctx, id, errors, form).await,
    };
    let audit = auth.ctx.audit(state.clock.now());
    match state.db(move |s| s.add_case_note(id, &note, &audit)).await {
        Ok(_) => Ok(Redirect::to(&format!("/cases/{id}#notes-h")).into_response()),
        Err(AppError::Invalid(errors)) => view_page(&state, &auth.ctx, id, errors, form).await,
        Err(e) => Err(e),
    }
}

#[derive(Template)]
#[template(path = "case_notes.html")]
struct NotesPage {
    c: Page,
    case: Case,
    notes: Vec<CaseNote>,
    household_copy: bool,
}

async fn notes_page(
    state: &AppState,
    auth: &Authz<need::CaseNotes>,
    id: &str,
    household_copy: bool,
) -> Result<Response, AppError> {
    let id = case_id(id)?;
    let case = state.db(move |s| s.case(id)).await?.ok_or(AppError::NotFound)?;
    let audit = auth.ctx.audit(state.clock.now());
    let notes = state.db(move |s| s.read_case_notes(id, household_copy, &audit)).await?;
    let title = if household_copy {
        "case-household-copy"
    } else {
        "case-notes"
    };
    Ok(render(&NotesPage {
        c: Page::new(state, &auth.ctx, title),
        case,
        notes,
        household_copy,
    }))
}

/// Every note of a case, opened (an audited read).
pub(crate) async fn notes(
    State(state): State<AppState>,
    auth: Authz<need::CaseNotes>,
    Path(id): Path<String>,
) -> Result<Response, AppError> {
    notes_page(&state, &auth, &id, false).await
}

/// The household's copy: the case with the notes no member keeps from the
/// others (an audited read), for printing and handing over.
pub(crate) async fn household_copy(
    State(state): State<AppState>,
    auth: Authz<need::CaseNotes>,
    Path(id): Path<String>,
) -> Result<Response, AppError> {
    notes_page(&state, &auth, &id, true).await
}

/// The dashboard's filter.
#[derive(Debug, Default, Deserialize)]
pub(crate) struct PipelineParams {
    #[serde(default)]
    site: String,
}

impl PipelineParams {
    pub(crate) fn new(site: String) -> Self {
        PipelineParams { site }
    }
}

pub(crate) fn pipeline_site(p: &PipelineParams) -> Result<Option<SiteId>, AppError> {
    match p.site.as_str() {
        "" => Ok(None),
        s => Ok(Some(SiteId::parse("site", s)?)),
    }
}

/// One bar of the funnel, laid out for the SVG.
pub(crate) struct Bar {
    label: String,
    count: u64,
    y: u32,
    width: u32,
}

/// Width of the funnel's longest bar, in SVG units.
const BAR_MAX: u32 = 400;
/// Height of one bar and its gap.
const BAR_STEP: u32 = 26;

#[derive(Template)]
#[template(path = "pipeline.html")]
struct PipelinePage {
    c: Page,
    p: Pipeline,
    bars: Vec<Bar>,
    height: u32,
    sites: Vec<Site>,
    site: String,
}

impl PipelinePage {
    fn days(&self, d: &Option<f64>) -> String {
        d.map(|v| format!("{v:.0}")).unwrap_or_else(|| "–".into())
    }
}

pub(crate) async fn pipeline(
    State(state): State<AppState>,
    auth: Authz<need::DashboardView>,
    Query(params): Query<PipelineParams>,
) -> Result<Response, AppError> {
    let site = pipeline_site(&params)?;
    let now = state.clock.now();
    let p = state.db(move |s| s.pipeline(site, now)).await?;
    let sites = state.db(|s| s.sites()).await?;
    let c = Page::new(&state, &auth.ctx, "pipeline-title");
    // The funnel: how many cases reached each step of the procedure.
    let shown: Vec<_> = p.steps.iter().filter(|f| !f.step.is_closure()).collect();
    let max = shown.iter().map(|f| f.reached).max().unwrap_or(0).max(1);
    let bars: Vec<Bar> = shown
        .iter()
        .enumerate()
        .map(|(i, f)| Bar {
            label: c.label("step", f.step.code()),
            count: f.reached,
            y: i as u32 * BAR_STEP,
            width: ((f.reached as f64 / max as f64) * f64::from(BAR_MAX)).round() as u32,
        })
        .collect();
    let height = bars.len() as u32 * BAR_STEP;
    Ok(render(&PipelinePage {
        c,
        p,
        bars,
        height,
        sites,
        site: params.site,
    }))
}

/// The pipeline as CSV with HXL hashtags (a hashtag row under the header):
/// aggregates only, never a person.
pub(crate) async fn pipeline_csv(
    State(state): State<AppState>,
    _auth: Authz<need::DashboardView>,
    Query(params): Query<PipelineParams>,
) -> Result<Response, AppError> {
    let site = pipeline_site(&params)?;
    let now = state.clock.now();
    let p = state.db(move |s| s.pipeline(site, now)).await?;
    let site_name = match site {
        Some(id) => state
            .db(|s| s.sites())
            .await?
            .into_iter()
            .find(|s| s.id == id)
            .map(|s| s.name)
            .ok_or(AppError::NotFound)?,
        None => String::new(),
    };
    Ok(csv_response(
        "lantern-pipeline.csv",
        &pipeline_hxl(&p, &site_name, now.date()),
    ))
}

/// Builds the HXL CSV of the pipeline figures.
pub(crate) fn pipeline_hxl(p: &Pipeline, site: &str, date: time::Date) -> String {
    let mut out = String::new();
    out.push_str("date,site,indicator,step,cases_now,cases_reached,waiting_median_days,waiting_p90_days\r\n");
    out.push_str("#date,#loc+name,#indicator+name,#status+code,#indicator+num+current,#indicator+num+reached,#indicator+num+median_days,#indicator+num+p90_days\r\n");
    let days = |d: Option<f64>| d.map(|v| format!("{v:.1}")).unwrap_or_default();
    for f in &p.steps {
        out.push_str(&format!(
            "{date},{},case_step,{},{},{},{},{}\r\n",
            csv_field(site),
            f.step.code(),
            f.current,
            f.reached,
            days(f.waiting_median_days),
            days(f.waiting_p90_days)
        ));
    }
    for (kind, n) in &p.obstacles {
        out.push_str(&format!(
            "{date},{},obstacle,{},{n},,,\r\n",
            csv_field(site),
            kind.code()
        ));
    }
    out
}

/// A CSV field, quoted when it must be (RFC 4180), and never read as a
/// formula by a spreadsheet.
fn csv_field(v: &str) -> String {
    let v = if v.starts_with(['=', '+', '-', '@']) {
        format!("'{v}")
    } else {
        v.to_string()
    };
    if v.contains([',', '"', '\n', '\r']) {
        format!("\"{}\"", v.replace('"', "\"\""))
    } else {
        v
    }
}

fn csv_response(name: &str, body: &str) -> Response {
    (
        [
            (header::CONTENT_TYPE, "text/csv; charset=utf-8".to_string()),
            (header::CONTENT_DISPOSITION, format!("attachment; filename=\"{name}\"")),
        ],
        body.to_string(),
    )
        .into_response()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn pairs(items: &[(&str, &str)]) -> Pairs {
        items.iter().map(|(k, v)| (k.to_string(), v.to_string())).collect()
    }

    #[test]
    fn obstacle_forms_are_checked_field_by_field() {
        let today = time::macros::date!(2026 - 03 - 02);
        let o = obstacle_form(&pairs(&[("obstacle", "access_denied"), ("by_whom", " gate ")]), today).unwrap();
        assert_eq!((o.occurred_on, o.by_whom.as_deref()), (today, Some("gate")));
        let errors = obstacle_form(
            &pairs(&[("obstacle", "nonsense"), ("occurred_on", "2026-03-09")]),
            today,
        )
        .unwrap_err();
        let fields: Vec<_> = errors.0.iter().map(|e| (e.field.as_str(), e.reason.code())).collect();
        assert_eq!(
            fields,
            [("obstacle", "unknown-choice"), ("occurred_on", "date-in-future")]
        );
        let errors = obstacle_form(&pairs(&[("obstacle", "other")]), today).unwrap_err();
        assert_eq!(errors.0[0].field, "detail");
    }

    #[test]
    fn the_hxl_export_has_a_hashtag_row_and_no_names() {
        let p = Pipeline {
            steps: vec![lantern_store::StepFigures {
                step: CaseStep::Registered,
                current: 3,
                reached: 5,
                waiting_median_days: Some(12.0),
                waiting_p90_days: Some(40.5),
            }],
            obstacles: vec![(ObstacleKind::AccessDenied, 2)],
            total: 3,
        };
        let csv = pipeline_hxl(&p, "=Site, A", time::macros::date!(2026 - 03 - 02));
        let lines: Vec<&str> = csv.lines().collect();
        assert!(lines[1].starts_with("#date,#loc+name,"));
        assert_eq!(lines[2], "2026-03-02,\"'=Site, A\",case_step,registered,3,5,12.0,40.5");
        assert_eq!(lines[3], "2026-03-02,\"'=Site, A\",obstacle,access_denied,2,,,");
    }
}
