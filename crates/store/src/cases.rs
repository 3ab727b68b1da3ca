//! Status and resettlement cases as they cross the store boundary.

use lantern_domain::case::{CaseId, CaseNoteId, CaseStep, NoteKind, ObstacleId, ObstacleKind};
use lantern_domain::person::{HouseholdId, PersonId, SiteId};
use serde::Serialize;
use time::{Date, OffsetDateTime};

use crate::PageRequest;

/// A case with its history and obstacles.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Case {
    /// Id.
    pub id: CaseId,
    /// Changes with every step (optimistic concurrency).
    pub version: i64,
    /// The resident (principal applicant).
    pub person: PersonId,
    /// The resident's primary name as written.
    pub person_name: String,
    /// The household the case covers, when it covers one.
    pub household: Option<HouseholdId>,
    /// That household's label.
    pub household_label: Option<String>,
    /// The resident's site now.
    pub site: Option<String>,
    /// The current step.
    pub step: CaseStep,
    /// Since when.
    #[serde(with = "time::serde::rfc3339")]
    pub step_at: OffsetDateTime,
    /// The resettlement country of the latest submission, if any.
    pub country: Option<String>,
    /// Every step, oldest first (the first is `registered`).
    pub steps: Vec<CaseStepRecord>,
    /// Every obstacle, oldest first.
    pub obstacles: Vec<Obstacle>,
}

/// One step of a case's history.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct CaseStepRecord {
    /// The step.
    pub step: CaseStep,
    /// When it was recorded.
    #[serde(with = "time::serde::rfc3339")]
    pub at: OffsetDateTime,
    /// Who recorded it.
    pub actor_name: String,
    /// The country, for a submission.
    pub country: Option<String>,
}

/// An obstacle to record.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NewObstacle {
    /// What happened.
    pub kind: ObstacleKind,
    /// On which day.
    pub occurred_on: Date,
    /// Who denied access, or who else was present (when it applies).
    pub by_whom: Option<String>,
    /// A description.
    pub detail: Option<String>,
}

/// An obstacle on a case.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Obstacle {
    /// Id.
    pub id: ObstacleId,
    /// What happened.
    pub kind: ObstacleKind,
    /// On which day.
    #[serde(serialize_with = "iso_date")]
    pub occurred_on: Date,
    /// Who denied access, or who else was present.
    pub by_whom: Option<String>,
    /// A description.
    pub detail: Option<String>,
    /// When it was recorded.
    #[serde(with = "time::serde::rfc3339")]
    pub recorded_at: OffsetDateTime,
    /// Who recorded it.
    pub actor_name: String,
}

/// A note or decision to write on a case.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NewCaseNote {
    /// Decision or note.
    pub kind: NoteKind,
    /// The household member it is about (a member of the case's household).
    pub about: Option<PersonId>,
    /// Kept from the rest of the household: left out of the household's
    /// copy of the case.
    pub confidential: bool,
    /// The text (sealed at rest).
    pub text: String,
}

/// A case note, with its text once opened.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CaseNote {
    /// Id.
    pub id: CaseNoteId,
    /// Decision or note.
    pub kind: NoteKind,
    /// The member it is about, with their name.
    pub about: Option<(PersonId, String)>,
    /// Kept from the rest of the household.
    pub confidential: bool,
    /// Who wrote it.
    pub author_name: String,
    /// When.
    pub at: OffsetDateTime,
    /// The text, when it was read (reads are audited); `None` in listings.
    pub text: Option<String>,
}

/// A case in a list.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct CaseSummary {
    /// Id.
    pub id: CaseId,
    /// The resident's primary name.
    pub person_name: String,
    /// The household's label, when the case covers one.
    pub household_label: Option<String>,
    /// The resident's site.
    pub site: Option<String>,
    /// The current step.
    pub step: CaseStep,
    /// Since when.
    #[serde(with = "time::serde::rfc3339")]
    pub step_at: OffsetDateTime,
    /// Obstacles recorded.
    pub obstacles: u64,
}

/// A list of cases.
#[derive(Debug, Clone, Default)]
pub struct CaseQuery {
    /// Only cases at this step.
    pub step: Option<CaseStep>,
    /// Only residents of this site.
    pub site: Option<SiteId>,
    /// Which page, longest waiting first.
    pub page: PageRequest,
}

/// The figures of one step of the pipeline.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct StepFigures {
    /// The step.
    pub step: CaseStep,
    /// Cases at this step now.
    pub current: u64,
    /// Cases that reached this step at some time.
    pub reached: u64,
    /// Days the current cases have waited at this step: median (none
    /// for a final step or when no case is there).
    pub waiting_median_days: Option<f64>,
    /// The 90th percentile of the same.
    pub waiting_p90_days: Option<f64>,
}

/// Which part of the pipeline to count.
#[derive(Debug, Clone, Default)]
pub struct PipelineQuery {
    /// Only residents of this site.
    pub site: Option<SiteId>,
    /// Interviews, obstacles and departures from this day on (inclusive).
    pub from: Option<Date>,
    /// … up to this day (inclusive).
    pub until: Option<Date>,
}

/// Interviews of one week (Monday to Sunday, by their start).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct WeekFigures {
    /// The Monday.
    #[serde(serialize_with = "iso_date")]
    pub week: Date,
    /// Still scheduled.
    pub scheduled: u64,
    /// Held.
    pub held: u64,
    /// The resident did not come.
    pub no_show: u64,
    /// Called off.
    pub cancelled: u64,
}

/// Departures of one month to one country.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Departures {
    /// The month's first day.
    #[serde(serialize_with = "iso_date")]
    pub month: Date,
    /// The resettlement country (none when the case named none).
    pub country: Option<String>,
    /// Departures.
    pub count: u64,
}

/// The pipeline's figures: aggregates only, never a person.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Pipeline {
    /// Per step, in the procedure's order (as things stand now).
    pub steps: Vec<StepFigures>,
    /// Obstacles per kind in the period, most frequent first.
    pub obstacles: Vec<(ObstacleKind, u64)>,
    /// Interviews per week in the period, oldest first.
    pub weeks: Vec<WeekFigures>,
    /// Departures per month and country in the period, oldest first.
    pub departures: Vec<Departures>,
    /// All cases.
    pub total: u64,
}

/// A date as `YYYY-MM-DD` (ISO 8601).
fn iso_date<S: serde::Serializer>(d: &Date, s: S) -> Result<S::Ok, S::Error> {
    s.collect_str(d)
}
