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
    Case, CaseNote, CaseQuery, CaseSummary, NewCaseNote, NewObstacle, Page as ResultPage, PageRequest, Pipeline,
    PipelineQuery, Site,
};
use serde::Deserialize;

use super::audit::csv_field;
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

/// The case list as CSV (RFC 4180), with the list's filters; it names
/// residents, so only roles that work cases may export it, and each export
/// is audited.
pub(crate) async fn list_csv(
    State(state): State<AppState>,
    auth: Authz<need::CaseExport>,
    Query(params): Query<ListParams>,
) -> Result<Response, AppError> {
    let mut query = case_query(&params)?;
    let audit = auth.ctx.audit(state.clock.now());
    let detail = format!("step={} site={}", params.step, params.site);
    let event = audit.event(lantern_domain::audit::AuditAction::CaseExport, "case", None, &detail);
    state.db(move |s| s.record_audit(&event)).await?;
    let mut out = String::from("case_id,resident,household,site,step,since,obstacles\r\n");
    query.page = PageRequest::new(1, PageRequest::MAX_SIZE);
    loop {
        let q = query.clone();
        let page = state.db(move |s| s.cases(&q)).await?;
        for k in &page.items {
            out.push_str(&format!(
                "{},{},{},{},{},{},{}\r\n",
                k.id,
                csv_field(&k.person_name),
                csv_field(k.household_label.as_deref().unwrap_or("")),
                csv_field(k.site.as_deref().unwrap_or("")),
                k.step.code(),
                k.step_at.date(),
                k.obstacles
            ));
        }
        if page.items.len() < page.size as usize {
            break;
        }
        query.page = PageRequest::new(query.page.page + 1, PageRequest::MAX_SIZE);
    }
    Ok(csv_response("lantern-cases.csv", &out))
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
    #[serde(default)]
    from: String,
    #[serde(default)]
    until: String,
}

impl PipelineParams {
    pub(crate) fn new(site: String, from: String, until: String) -> Self {
        PipelineParams { site, from, until }
    }
}

/// The filter as a query: a site, and a period (default: from 12 weeks
/// before `today` to 4 weeks after).
pub(crate) fn pipeline_query(p: &PipelineParams, today: time::Date) -> Result<PipelineQuery, AppError> {
    let mut errors = FieldErrors::new();
    let site = match p.site.as_str() {
        "" => None,
        s => errors.take(SiteId::parse("site", s)),
    };
    let day = |name: &str, raw: &str, default: time::Date, errors: &mut FieldErrors| match raw.trim() {
        "" => Some(default),
        v => errors.take(
            time::Date::parse(v, time::macros::format_description!("[year]-[month]-[day]"))
                .map_err(|_| lantern_domain::FieldError::new(name, Reason::InvalidDate)),
        ),
    };
    // Four weeks ahead, so interviews already booked show too.
    let until = day("until", &p.until, today + time::Duration::weeks(4), &mut errors);
    let from = day("from", &p.from, today - time::Duration::weeks(12), &mut errors);
    if let (Some(f), Some(u)) = (from, until) {
        if f > u {
            errors.push("from", Reason::InvalidRange);
        }
    }
    if !errors.is_empty() {
        return Err(AppError::Invalid(errors));
    }
    Ok(PipelineQuery { site, from, until })
}

/// One bar of a chart, laid out for the SVG.
pub(crate) struct Bar {
    label: String,
    count: u64,
    y: u32,
    width: u32,
}

/// One week's stacked bar: held, missed, cancelled, still scheduled.
pub(crate) struct WeekBar {
    label: String,
    x: u32,
    /// (y, height, css class) per segment, bottom up.
    segments: Vec<(u32, u32, &'static str)>,
    total: u64,
}

/// Width of the funnel's longest bar, in SVG units.
const BAR_MAX: u32 = 400;
/// Height of one bar and its gap.
const BAR_STEP: u32 = 26;
/// Height of the weekly chart's tallest bar, and one week's width.
const WEEK_MAX: u32 = 160;
const WEEK_STEP: u32 = 44;

#[derive(Template)]
#[template(path = "pipeline.html")]
struct PipelinePage {
    c: Page,
    p: Pipeline,
    bars: Vec<Bar>,
    height: u32,
    weeks: Vec<WeekBar>,
    weeks_width: u32,
    sites: Vec<Site>,
    site: String,
    from: String,
    until: String,
}

impl PipelinePage {
    fn days(&self, d: &Option<f64>) -> String {
        d.map(|v| format!("{v:.0}")).unwrap_or_else(|| "–".into())
    }

    /// The query string of the current filter, for links and the export.
    fn filter(&self) -> String {
        form_urlencoded::Serializer::new(String::new())
            .append_pair("site", &self.site)
            .append_pair("from", &self.from)
            .append_pair("until", &self.until)
            .finish()
    }
}

fn week_bars(p: &Pipeline) -> Vec<WeekBar> {
    let max = p
        .weeks
        .iter()
        .map(|w| w.scheduled + w.held + w.no_show + w.cancelled)
        .max()
        .unwrap_or(0)
        .max(1);
    p.weeks
        .iter()
        .enumerate()
        .map(|(i, w)| {
            let mut top = WEEK_MAX;
            let mut segments = Vec::new();
            for (n, class) in [
                (w.held, "chart-held"),
                (w.no_show, "chart-missed"),
                (w.cancelled, "chart-cancelled"),
                (w.scheduled, "chart-scheduled"),
            ] {
                let h = ((n as f64 / max as f64) * f64::from(WEEK_MAX)).round() as u32;
                if h > 0 {
                    top -= h;
                    segments.push((top, h, class));
                }
            }
            WeekBar {
                label: format!("{:02}-{:02}", u8::from(w.week.month()), w.week.day()),
                x: i as u32 * WEEK_STEP,
                segments,
                total: w.scheduled + w.held + w.no_show + w.cancelled,
            }
        })
        .collect()
}

pub(crate) async fn pipeline(
    State(state): State<AppState>,
    auth: Authz<need::DashboardView>,
    Query(params): Query<PipelineParams>,
) -> Result<Response, AppError> {
    let now = state.clock.now();
    let query = pipeline_query(&params, now.date())?;
    let (from, until) = (query.from, query.until);
    let p = state.db(move |s| s.pipeline(&query, now)).await?;
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
    let weeks = week_bars(&p);
    // At least sixteen weeks wide, so a short period keeps bars narrow.
    let weeks_width = (weeks.len().max(16) as u32) * WEEK_STEP;
    Ok(render(&PipelinePage {
        c,
        p,
        bars,
        height,
        weeks,
        weeks_width,
        sites,
        site: params.site,
        from: from.map(|d| d.to_string()).unwrap_or_default(),
        until: until.map(|d| d.to_string()).unwrap_or_default(),
    }))
}

/// The pipeline as CSV with HXL hashtags (a hashtag row under the header):
/// aggregates only, never a person.
pub(crate) async fn pipeline_csv(
    State(state): State<AppState>,
    _auth: Authz<need::DashboardView>,
    Query(params): Query<PipelineParams>,
) -> Result<Response, AppError> {
    let now = state.clock.now();
    let query = pipeline_query(&params, now.date())?;
    let site = query.site;
    let p = state.db(move |s| s.pipeline(&query, now)).await?;
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

/// Builds the HXL CSV of the pipeline figures, one figure per row: the
/// state of each step today, obstacles in the period, interviews per week
/// (dated by the week's Monday) and departures per month (dated by its
/// first day) with their destination.
pub(crate) fn pipeline_hxl(p: &Pipeline, site: &str, date: time::Date) -> String {
    let mut out = String::new();
    out.push_str("date,site,indicator,category,country,value\r\n");
    out.push_str("#date,#loc+name,#indicator+code,#status+code,#country+name,#indicator+num\r\n");
    let site = csv_field(site);
    let mut row = |date: &dyn std::fmt::Display, indicator: &str, category: &str, country: &str, value: String| {
        out.push_str(&format!(
            "{date},{site},{indicator},{category},{},{value}\r\n",
            csv_field(country)
        ));
    };
    for f in &p.steps {
        let step = f.step.code();
        row(&date, "cases_now", step, "", f.current.to_string());
        row(&date, "cases_reached", step, "", f.reached.to_string());
        for (indicator, days) in [
            ("waiting_median_days", f.waiting_median_days),
            ("waiting_p90_days", f.waiting_p90_days),
        ] {
            if let Some(d) = days {
                row(&date, indicator, step, "", format!("{d:.1}"));
            }
        }
    }
    for (kind, n) in &p.obstacles {
        row(&date, "obstacles", kind.code(), "", n.to_string());
    }
    for w in &p.weeks {
        for (status, n) in [
            ("scheduled", w.scheduled),
            ("held", w.held),
            ("no_show", w.no_show),
            ("cancelled", w.cancelled),
        ] {
            row(&w.week, "interviews", status, "", n.to_string());
        }
    }
    for d in &p.departures {
        row(
            &d.month,
            "departures",
            "departed",
            d.country.as_deref().unwrap_or(""),
            d.count.to_string(),
        );
    }
    out
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
    fn the_hxl_export_has_a_hashtag_row_and_one_figure_per_row() {
        let p = Pipeline {
            steps: vec![lantern_store::StepFigures {
                step: CaseStep::Registered,
                current: 3,
                reached: 5,
                waiting_median_days: Some(12.0),
                waiting_p90_days: None,
            }],
            obstacles: vec![(ObstacleKind::AccessDenied, 2)],
            weeks: vec![lantern_store::WeekFigures {
                week: time::macros::date!(2026 - 02 - 23),
                scheduled: 0,
                held: 4,
                no_show: 1,
                cancelled: 0,
            }],
            departures: vec![lantern_store::Departures {
                month: time::macros::date!(2026 - 02 - 01),
                country: Some("Country, B".into()),
                count: 2,
            }],
            total: 3,
        };
        let csv = pipeline_hxl(&p, "=Site A", time::macros::date!(2026 - 03 - 02));
        let lines: Vec<&str> = csv.lines().collect();
        assert_eq!(lines[0], "date,site,indicator,category,country,value");
        assert!(lines[1].starts_with("#date,#loc+name,"));
        assert_eq!(
            &lines[2..],
            [
                "2026-03-02,'=Site A,cases_now,registered,,3",
                "2026-03-02,'=Site A,cases_reached,registered,,5",
                "2026-03-02,'=Site A,waiting_median_days,registered,,12.0",
                "2026-03-02,'=Site A,obstacles,access_denied,,2",
                "2026-02-23,'=Site A,interviews,scheduled,,0",
                "2026-02-23,'=Site A,interviews,held,,4",
                "2026-02-23,'=Site A,interviews,no_show,,1",
                "2026-02-23,'=Site A,interviews,cancelled,,0",
                "2026-02-01,'=Site A,departures,departed,\"Country, B\",2",
            ]
        );
    }
}
