//! Interview scheduling pages: booking from a case, outcomes, the day plan
//! of a site with bulk scheduling, and the rooms and interpreters.
//!
//! Times are entered and shown in UTC.

use askama::Template;
use axum::extract::{Path, Query, State};
use axum::response::{IntoResponse, Redirect, Response};
use axum::Form;
use lantern_domain::case::{CaseId, CaseStep};
use lantern_domain::interview::{
    duration, languages, windows, InterpreterId, InterviewId, ResourceKind, RoomId, Slot, Window,
};
use lantern_domain::person::SiteId;
use lantern_domain::policy::Role;
use lantern_domain::user::UserId;
use lantern_domain::{FieldErrors, Reason};
use lantern_store::{
    BulkSchedule, CaseQuery, CaseSummary, Interpreter, Interview, InterviewOutcome, InterviewQuery, NewInterview,
    PageRequest, Room, Site, User,
};
use serde::Deserialize;
use time::macros::format_description;
use time::{Date, Duration, OffsetDateTime, PrimitiveDateTime, Time};

use super::{field, no_errors, Pairs};
use crate::authz::{need, require_step, Authz};
use crate::context::Ctx;
use crate::error::AppError;
use crate::view::{render_status, Page};
use crate::AppState;

/// Most cases a bulk form lists.
const BULK_MAX: u32 = 200;

use lantern_domain::date::day as date;

fn clock_time(field_name: &str, raw: &str) -> Result<Time, lantern_domain::FieldError> {
    let raw = raw.trim();
    Time::parse(raw, format_description!("[hour]:[minute]"))
        .or_else(|_| Time::parse(raw, format_description!("[hour]:[minute]:[second]")))
        .map_err(|_| lantern_domain::FieldError::new(field_name, Reason::InvalidFormat))
}

fn at(day: Date, t: Time) -> OffsetDateTime {
    PrimitiveDateTime::new(day, t).assume_utc()
}

fn optional_id<T>(
    errors: &mut FieldErrors,
    name: &str,
    raw: &str,
    parse: fn(&str, &str) -> Result<T, lantern_domain::FieldError>,
) -> Option<T> {
    match raw.trim() {
        "" => None,
        v => errors.take(parse(name, v)),
    }
}

fn language(errors: &mut FieldErrors, raw: &str) -> Option<String> {
    match raw.trim() {
        "" => None,
        v => errors
            .take(languages("language", v))
            .and_then(|l| l.first().map(|t| t.as_str().to_string())),
    }
}

/// A slot from a form's `date`, `time` (UTC) and `minutes` fields.
pub(crate) fn slot_form(errors: &mut FieldErrors, form: &Pairs) -> Option<Slot> {
    let day = errors.take(date("date", field(form, "date")));
    let start = errors.take(clock_time("time", field(form, "time")));
    let length = errors.take(duration("minutes", field(form, "minutes")));
    Some(Slot::new(at(day?, start?), length?))
}

/// A booking as the case page's form gives it.
pub(crate) fn booking_form(case: CaseId, form: &Pairs) -> Result<NewInterview, FieldErrors> {
    let mut errors = FieldErrors::new();
    let slot = slot_form(&mut errors, form);
    let room = errors.take(RoomId::parse("room_id", field(form, "room_id")));
    let interviewer = errors.take(UserId::parse("interviewer_id", field(form, "interviewer_id")));
    let interpreter = optional_id(
        &mut errors,
        "interpreter_id",
        field(form, "interpreter_id"),
        InterpreterId::parse,
    );
    let language = language(&mut errors, field(form, "language"));
    match (slot, room, interviewer, errors.is_empty()) {
        (Some(slot), Some(room), Some(interviewer), true) => Ok(NewInterview {
            case,
            slot,
            room,
            interviewer,
            interpreter,
            language,
        }),
        _ => Err(errors),
    }
}

/// An interviewer as the forms offer them.
pub(crate) struct InterviewerChoice {
    id: UserId,
    display_name: String,
    /// Their interview languages, comma-separated ("" when none recorded).
    languages: String,
}

/// The choices a booking form offers.
pub(crate) struct Choices {
    rooms: Vec<Room>,
    interviewers: Vec<InterviewerChoice>,
    interpreters: Vec<Interpreter>,
}

async fn choices(state: &AppState) -> Result<Choices, AppError> {
    let rooms = state.db(|s| s.rooms()).await?;
    let languages = state.db(|s| s.interviewer_languages()).await?;
    let interviewers = state
        .db(|s| s.users())
        .await?
        .into_iter()
        .filter(|u: &User| u.role == Role::Interviewer && !u.disabled)
        .map(|u| InterviewerChoice {
            languages: languages
                .iter()
                .find(|(id, _)| *id == u.id)
                .map(|(_, l)| l.join(", "))
                .unwrap_or_default(),
            id: u.id,
            display_name: u.display_name,
        })
        .collect();
    let interpreters = state.db(|s| s.interpreters()).await?;
    Ok(Choices {
        rooms,
        interviewers,
        interpreters,
    })
}

#[derive(Template)]
#[template(path = "case_interviews.html")]
struct CaseInterviewsPage {
    c: Page,
    case_id: CaseId,
    person_name: String,
    step: CaseStep,
    interviews: Vec<Interview>,
    choices: Choices,
    today: String,
    errors: FieldErrors,
    form: Pairs,
}

impl CaseInterviewsPage {
    fn value(&self, name: &str) -> &str {
        field(&self.form, name)
    }
}

async fn case_page(
    state: &AppState,
    ctx: &Ctx,
    id: CaseId,
    errors: FieldErrors,
    form: Pairs,
) -> Result<Response, AppError> {
    let case = state.db(move |s| s.case(id)).await?.ok_or(AppError::NotFound)?;
    let interviews = state.db(move |s| s.case_interviews(id)).await?;
    Ok(render_status(
        super::form_status(&errors),
        &CaseInterviewsPage {
            c: Page::new(state, ctx, "interviews-case-title"),
            case_id: id,
            person_name: case.person_name,
            step: case.step,
            interviews,
            choices: choices(state).await?,
            today: state.clock.now().date().to_string(),
            errors,
            form,
        },
    ))
}

fn case_id(raw: &str) -> Result<CaseId, AppError> {
    CaseId::parse("id", raw).map_err(|_| AppError::NotFound)
}

pub(crate) async fn for_case(
    State(state): State<AppState>,
    auth: Authz<need::CaseRead>,
    Path(id): Path<String>,
) -> Result<Response, AppError> {
    case_page(&state, &auth.ctx, case_id(&id)?, no_errors(), Vec::new()).await
}

pub(crate) async fn book(
    State(state): State<AppState>,
    auth: Authz<need::CaseWrite>,
    Path(id): Path<String>,
    Form(form): Form<Pairs>,
) -> Result<Response, AppError> {
    let id = case_id(&id)?;
    let booking = match booking_form(id, &form) {
        Ok(b) => b,
        Err(errors) => return case_page(&state, &auth.ctx, id, errors, form).await,
    };
    require_step(&state, &auth, CaseStep::InterviewScheduled).await?;
    let audit = auth.ctx.audit(state.clock.now());
    match state.db(move |s| s.book_interview(&booking, &audit)).await {
        Ok(_) => Ok(Redirect::to(&format!("/cases/{id}/interviews")).into_response()),
        Err(AppError::Invalid(errors)) => case_page(&state, &auth.ctx, id, errors, form).await,
        Err(e) => Err(e),
    }
}

/// An outcome as a form gives it (`outcome` = held, no_show, cancelled).
pub(crate) fn outcome_form(form: &Pairs) -> Result<InterviewOutcome, FieldErrors> {
    let mut errors = FieldErrors::new();
    let outcome = match field(form, "outcome") {
        "held" => {
            let others = errors
                .take(lantern_domain::case::optional_text(
                    "others_present",
                    field(form, "others_present"),
                ))
                .flatten();
            InterviewOutcome::Held { others_present: others }
        }
        "no_show" => InterviewOutcome::NoShow,
        "cancelled" => InterviewOutcome::Cancelled,
        "" => {
            errors.push("outcome", Reason::Required);
            InterviewOutcome::Cancelled
        }
        _ => {
            errors.push("outcome", Reason::UnknownChoice);
            InterviewOutcome::Cancelled
        }
    };
    if errors.is_empty() {
        Ok(outcome)
    } else {
        Err(errors)
    }
}

/// The case step an outcome records, for the role check.
pub(crate) fn outcome_step(outcome: &InterviewOutcome) -> CaseStep {
    match outcome {
        InterviewOutcome::Held { .. } => CaseStep::Interviewed,
        InterviewOutcome::NoShow | InterviewOutcome::Cancelled => CaseStep::InterviewRequested,
    }
}

pub(crate) async fn close(
    State(state): State<AppState>,
    auth: Authz<need::CaseWrite>,
    Path(id): Path<String>,
    Form(form): Form<Pairs>,
) -> Result<Response, AppError> {
    let id = InterviewId::parse("id", &id).map_err(|_| AppError::NotFound)?;
    let case = CaseId::parse("case_id", field(&form, "case_id"))?;
    let outcome = match outcome_form(&form) {
        Ok(o) => o,
        Err(errors) => return case_page(&state, &auth.ctx, case, errors, form).await,
    };
    require_step(&state, &auth, outcome_step(&outcome)).await?;
    let audit = auth.ctx.audit(state.clock.now());
    let closed = state.db(move |s| s.close_interview(id, &outcome, &audit)).await?;
    Ok(Redirect::to(&format!("/cases/{}/interviews", closed.case)).into_response())
}

/// The day plan's filters.
#[derive(Debug, Default, Deserialize)]
pub(crate) struct DayParams {
    #[serde(default)]
    pub(crate) site: String,
    #[serde(default)]
    pub(crate) date: String,
}

#[derive(Template)]
#[template(path = "interviews.html")]
struct DayPage {
    c: Page,
    sites: Vec<Site>,
    site: String,
    date: String,
    interviews: Vec<Interview>,
    waiting: Vec<CaseSummary>,
    choices: Choices,
    errors: FieldErrors,
    form: Pairs,
    /// After a bulk run: how many were booked, and the left-out cases.
    report: Option<(usize, Vec<(String, String)>)>,
}

impl RoomsPage {
    fn hours(&self, room: &lantern_store::VisitRoom) -> String {
        lantern_domain::interview::windows_text(&room.hours)
    }
}

impl DayPage {
    fn value(&self, name: &str) -> &str {
        field(&self.form, name)
    }

    fn booked(&self) -> usize {
        self.report.as_ref().map_or(0, |r| r.0)
    }

    fn hm(&self, t: &OffsetDateTime) -> String {
        format!("{:02}:{:02}", t.hour(), t.minute())
    }
}

struct DayView {
    errors: FieldErrors,
    form: Pairs,
    report: Option<(usize, Vec<(String, String)>)>,
}

/// The day plan's query: one UTC day (default today) at one site or all.
pub(crate) fn day_query(params: &DayParams, today: Date) -> Result<(Option<SiteId>, Date, InterviewQuery), AppError> {
    let mut errors = FieldErrors::new();
    let site = optional_id(&mut errors, "site", &params.site, SiteId::parse);
    let day = match params.date.trim() {
        "" => Some(today),
        raw => errors.take(date("date", raw)),
    };
    match (day, errors.is_empty()) {
        (Some(day), true) => {
            let from = at(day, Time::MIDNIGHT);
            Ok((
                site,
                day,
                InterviewQuery {
                    site,
                    from,
                    until: from + Duration::days(1),
                },
            ))
        }
        _ => Err(AppError::Invalid(errors)),
    }
}

async fn day_page(state: &AppState, ctx: &Ctx, params: DayParams, view: DayView) -> Result<Response, AppError> {
    let (site, day, query) = day_query(&params, state.clock.now().date())?;
    let interviews = state.db(move |s| s.interviews(&query)).await?;
    let waiting = match site {
        Some(site) => {
            state
                .db(move |s| {
                    s.cases(&CaseQuery {
                        step: Some(CaseStep::InterviewRequested),
                        site: Some(site),
                        page: PageRequest::new(1, BULK_MAX),
                    })
                })
                .await?
                .items
        }
        None => Vec::new(),
    };
    let status = super::form_status(&view.errors);
    Ok(render_status(
        status,
        &DayPage {
            c: Page::new(state, ctx, "interviews-title"),
            sites: state.db(|s| s.sites()).await?,
            site: params.site,
            date: day.to_string(),
            interviews,
            waiting,
            choices: choices(state).await?,
            errors: view.errors,
            form: view.form,
            report: view.report,
        },
    ))
}

pub(crate) async fn day(
    State(state): State<AppState>,
    auth: Authz<need::CaseRead>,
    Query(params): Query<DayParams>,
) -> Result<Response, AppError> {
    let view = DayView {
        errors: no_errors(),
        form: Vec::new(),
        report: None,
    };
    day_page(&state, &auth.ctx, params, view).await
}

/// A bulk plan as the day page's form gives it (`case` repeated).
pub(crate) fn bulk_form(form: &Pairs) -> Result<BulkSchedule, FieldErrors> {
    let mut errors = FieldErrors::new();
    let site = errors.take(SiteId::parse("site", field(form, "site")));
    let day = errors.take(date("date", field(form, "date")));
    let first = errors.take(clock_time("first", field(form, "first")));
    let last = errors.take(clock_time("last_end", field(form, "last_end")));
    let length = errors.take(duration("minutes", field(form, "minutes")));
    let interviewer = errors.take(UserId::parse("interviewer_id", field(form, "interviewer_id")));
    let interpreter = optional_id(
        &mut errors,
        "interpreter_id",
        field(form, "interpreter_id"),
        InterpreterId::parse,
    );
    let language = language(&mut errors, field(form, "language"));
    let mut cases = Vec::new();
    for (k, v) in form {
        if k == "case" {
            if let Some(c) = errors.take(CaseId::parse("case", v)) {
                cases.push(c);
            }
        }
    }
    if cases.is_empty() && errors.for_field("case").is_none() {
        errors.push("case", Reason::Required);
    }
    if let (Some(f), Some(l)) = (first, last) {
        if l <= f {
            errors.push("last_end", Reason::InvalidRange);
        }
    }
    match (site, day, first, last, length, interviewer, errors.is_empty()) {
        (Some(site), Some(day), Some(first), Some(last), Some(length), Some(interviewer), true) => Ok(BulkSchedule {
            cases,
            site,
            first: at(day, first),
            last_end: at(day, last),
            length,
            interviewer,
            interpreter,
            language,
        }),
        _ => Err(errors),
    }
}

pub(crate) async fn bulk(
    State(state): State<AppState>,
    auth: Authz<need::CaseWrite>,
    Form(form): Form<Pairs>,
) -> Result<Response, AppError> {
    let params = DayParams {
        site: field(&form, "site").to_string(),
        date: field(&form, "date").to_string(),
    };
    let plan = match bulk_form(&form) {
        Ok(p) => p,
        Err(errors) => {
            let view = DayView {
                errors,
                form,
                report: None,
            };
            return day_page(&state, &auth.ctx, params, view).await;
        }
    };
    require_step(&state, &auth, CaseStep::InterviewScheduled).await?;
    let audit = auth.ctx.audit(state.clock.now());
    let result = state.db(move |s| s.bulk_schedule(&plan, &audit)).await?;
    let c = Page::new(&state, &auth.ctx, "interviews-title");
    let left_out = result
        .left_out
        .iter()
        .map(|(case, reason)| (case.to_string(), c.t(&format!("error-{reason}"))))
        .collect();
    let view = DayView {
        errors: no_errors(),
        form: Vec::new(),
        report: Some((result.booked.len(), left_out)),
    };
    day_page(&state, &auth.ctx, params, view).await
}

#[derive(Template)]
#[template(path = "rooms.html")]
struct RoomsPage {
    c: Page,
    sites: Vec<Site>,
    rooms: Vec<Room>,
    interpreters: Vec<Interpreter>,
    visit_rooms: Vec<lantern_store::VisitRoom>,
    /// Everyone with hours: (`kind:id`, name, their windows as text).
    people: Vec<(String, String, String)>,
    errors: FieldErrors,
}

async fn rooms_page(state: &AppState, ctx: &Ctx, errors: FieldErrors) -> Result<Response, AppError> {
    let choices = choices(state).await?;
    let people = state
        .db(move |s| {
            let text = |w: Vec<Window>| lantern_domain::interview::windows_text(&w);
            let mut out = Vec::new();
            for u in &choices.interviewers {
                let w = s.availability(ResourceKind::Interviewer, u.id.0)?;
                let name = if u.languages.is_empty() {
                    u.display_name.clone()
                } else {
                    format!("{} ({})", u.display_name, u.languages)
                };
                out.push((format!("interviewer:{}", u.id), name, text(w)));
            }
            for i in &choices.interpreters {
                let w = s.availability(ResourceKind::Interpreter, i.id.0)?;
                out.push((format!("interpreter:{}", i.id), i.name.clone(), text(w)));
            }
            Ok(out)
        })
        .await?;
    Ok(render_status(
        super::form_status(&errors),
        &RoomsPage {
            c: Page::new(state, ctx, "rooms-title"),
            sites: state.db(|s| s.sites()).await?,
            rooms: state.db(|s| s.rooms()).await?,
            interpreters: state.db(|s| s.interpreters()).await?,
            visit_rooms: state.db(|s| s.visit_rooms()).await?,
            people,
            errors,
        },
    ))
}

/// Whose hours a form names: `interviewer:ID` or `interpreter:ID`.
pub(crate) fn resource(field_name: &str, raw: &str) -> Result<(ResourceKind, uuid::Uuid), lantern_domain::FieldError> {
    let bad = || lantern_domain::FieldError::new(field_name, Reason::InvalidId);
    let (kind, id) = raw.split_once(':').ok_or_else(bad)?;
    let kind = ResourceKind::parse(field_name, kind)?;
    let id = uuid::Uuid::parse_str(id.trim()).map_err(|_| bad())?;
    Ok((kind, id))
}

pub(crate) async fn set_interviewer_languages(
    State(state): State<AppState>,
    auth: Authz<need::SiteManage>,
    Form(form): Form<Pairs>,
) -> Result<Response, AppError> {
    let user = match UserId::parse("interviewer_id", field(&form, "interviewer_id")) {
        Ok(u) => u,
        Err(e) => return rooms_page(&state, &auth.ctx, FieldErrors(vec![e])).await,
    };
    let languages = vec![field(&form, "languages").to_string()];
    let audit = auth.ctx.audit(state.clock.now());
    match state
        .db(move |s| s.set_interviewer_languages(user, &languages, &audit))
        .await
    {
        Ok(()) => Ok(Redirect::to("/admin/rooms#availability-h").into_response()),
        Err(AppError::Invalid(errors)) => rooms_page(&state, &auth.ctx, errors).await,
        Err(e) => Err(e),
    }
}

pub(crate) async fn set_availability(
    State(state): State<AppState>,
    auth: Authz<need::SiteManage>,
    Form(form): Form<Pairs>,
) -> Result<Response, AppError> {
    let mut errors = FieldErrors::new();
    let who = errors.take(resource("person", field(&form, "person")));
    let windows = errors.take(windows("availability", field(&form, "availability")));
    let (Some((kind, id)), Some(windows), true) = (who, windows, errors.is_empty()) else {
        return rooms_page(&state, &auth.ctx, errors).await;
    };
    let audit = auth.ctx.audit(state.clock.now());
    match state.db(move |s| s.set_availability(kind, id, &windows, &audit)).await {
        Ok(()) => Ok(Redirect::to("/admin/rooms#availability-h").into_response()),
        Err(AppError::Invalid(errors)) => rooms_page(&state, &auth.ctx, errors).await,
        Err(e) => Err(e),
    }
}

pub(crate) async fn rooms(State(state): State<AppState>, auth: Authz<need::SiteManage>) -> Result<Response, AppError> {
    rooms_page(&state, &auth.ctx, no_errors()).await
}

pub(crate) async fn create_room(
    State(state): State<AppState>,
    auth: Authz<need::SiteManage>,
    Form(form): Form<Pairs>,
) -> Result<Response, AppError> {
    let site = match SiteId::parse("site_id", field(&form, "site_id")) {
        Ok(s) => s,
        Err(e) => return rooms_page(&state, &auth.ctx, FieldErrors(vec![e])).await,
    };
    let name = field(&form, "name").to_string();
    let audit = auth.ctx.audit(state.clock.now());
    match state.db(move |s| s.create_room(site, &name, &audit)).await {
        Ok(_) => Ok(Redirect::to("/admin/rooms").into_response()),
        Err(AppError::Invalid(errors)) => rooms_page(&state, &auth.ctx, errors).await,
        Err(e) => Err(e),
    }
}

/// Adds a visiting room (families meet residents there).
pub(crate) async fn create_visit_room(
    State(state): State<AppState>,
    auth: Authz<need::SiteManage>,
    Form(form): Form<Pairs>,
) -> Result<Response, AppError> {
    let mut errors = FieldErrors::new();
    let site = errors.take(SiteId::parse("visit_site_id", field(&form, "visit_site_id")));
    let capacity = match field(&form, "capacity").trim().parse::<u32>() {
        Ok(n) if n > 0 => Some(n),
        _ => {
            errors.push("capacity", Reason::InvalidNumber);
            None
        }
    };
    let hours = errors.take(lantern_domain::interview::windows("hours", field(&form, "hours")));
    let name = field(&form, "visit_room_name").to_string();
    if let (Some(site), Some(capacity), Some(hours), true) = (site, capacity, hours, errors.is_empty()) {
        let audit = auth.ctx.audit(state.clock.now());
        match state
            .db(move |s| s.create_visit_room(site, &name, capacity, &hours, &audit))
            .await
        {
            Ok(_) => return Ok(Redirect::to("/admin/rooms").into_response()),
            Err(AppError::Invalid(e)) => errors = e,
            Err(e) => return Err(e),
        }
    }
    rooms_page(&state, &auth.ctx, errors).await
}

pub(crate) async fn create_interpreter(
    State(state): State<AppState>,
    auth: Authz<need::SiteManage>,
    Form(form): Form<Pairs>,
) -> Result<Response, AppError> {
    let name = field(&form, "interpreter_name").to_string();
    let langs = vec![field(&form, "languages").to_string()];
    let audit = auth.ctx.audit(state.clock.now());
    match state.db(move |s| s.create_interpreter(&name, &langs, &audit)).await {
        Ok(_) => Ok(Redirect::to("/admin/rooms").into_response()),
        Err(AppError::Invalid(errors)) => {
            // The store names the fields `name` and `languages`; the form
            // shares the page with the room form, so the name is prefixed.
            let errors = FieldErrors(
                errors
                    .0
                    .into_iter()
                    .map(|mut e| {
                        if e.field == "name" {
                            e.field = "interpreter_name".into();
                        }
                        e
                    })
                    .collect(),
            );
            rooms_page(&state, &auth.ctx, errors).await
        }
        Err(e) => Err(e),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn pairs(items: &[(&str, &str)]) -> Pairs {
        items.iter().map(|(k, v)| (k.to_string(), v.to_string())).collect()
    }

    #[test]
    fn bulk_forms_are_checked_field_by_field() {
        let errors = bulk_form(&pairs(&[
            ("site", "x"),
            ("date", "2026-02-30"),
            ("first", "10:00"),
            ("last_end", "09:00"),
            ("minutes", "600"),
        ]))
        .unwrap_err();
        let fields: Vec<_> = errors.0.iter().map(|e| (e.field.as_str(), e.reason.code())).collect();
        assert_eq!(
            fields,
            [
                ("site", "invalid-id"),
                ("date", "invalid-date"),
                ("minutes", "invalid-range"),
                ("interviewer_id", "invalid-id"),
                ("case", "required"),
                ("last_end", "invalid-range"),
            ]
        );
    }

    #[test]
    fn outcomes_are_read_from_the_form() {
        assert_eq!(
            outcome_form(&pairs(&[("outcome", "held"), ("others_present", " a guard ")])).unwrap(),
            InterviewOutcome::Held {
                others_present: Some("a guard".into())
            }
        );
        assert_eq!(
            outcome_form(&pairs(&[("outcome", "held")])).unwrap(),
            InterviewOutcome::Held { others_present: None }
        );
        assert_eq!(
            outcome_form(&pairs(&[("outcome", "maybe")])).unwrap_err().0[0]
                .reason
                .code(),
            "unknown-choice"
        );
    }
}
