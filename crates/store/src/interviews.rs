//! Interview scheduling as it crosses the store boundary.

use lantern_domain::case::CaseId;
use lantern_domain::interview::{InterpreterId, InterviewId, InterviewStatus, RoomId, Slot};
use lantern_domain::person::SiteId;
use lantern_domain::user::UserId;
use time::{Duration, OffsetDateTime};

/// An interview room at a site.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Room {
    /// Id.
    pub id: RoomId,
    /// Its site.
    pub site_id: SiteId,
    /// The site's name.
    pub site: String,
    /// The room's name.
    pub name: String,
}

/// An interpreter (not necessarily a Lantern user).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Interpreter {
    /// Id.
    pub id: InterpreterId,
    /// Name.
    pub name: String,
    /// Language tags.
    pub languages: Vec<String>,
}

/// An interview to book.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NewInterview {
    /// The case (at `interview_requested`).
    pub case: CaseId,
    /// When.
    pub slot: Slot,
    /// Where.
    pub room: RoomId,
    /// The interviewer (a user with the interviewer role).
    pub interviewer: UserId,
    /// The interpreter, if one is needed.
    pub interpreter: Option<InterpreterId>,
    /// The language of the interview.
    pub language: Option<String>,
}

/// A booked interview.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Interview {
    /// Id.
    pub id: InterviewId,
    /// The case.
    pub case: CaseId,
    /// The resident's primary name.
    pub person_name: String,
    /// When.
    pub slot: Slot,
    /// The room.
    pub room: RoomId,
    /// The room's name.
    pub room_name: String,
    /// The room's site.
    pub site: String,
    /// The interviewer.
    pub interviewer: UserId,
    /// The interviewer's name.
    pub interviewer_name: String,
    /// The interpreter.
    pub interpreter: Option<InterpreterId>,
    /// The interpreter's name.
    pub interpreter_name: Option<String>,
    /// The language.
    pub language: Option<String>,
    /// What became of it.
    pub status: InterviewStatus,
    /// Anyone present besides the resident, the interviewer and the
    /// interpreter (recorded when held).
    pub others_present: Option<String>,
}

/// What became of a scheduled interview.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum InterviewOutcome {
    /// It took place; anyone else present is named (and recorded as an
    /// obstacle on the case). The case moves to `interviewed`.
    Held {
        /// Others present, if any.
        others_present: Option<String>,
    },
    /// The resident did not come (an obstacle); the case waits for a new date.
    NoShow,
    /// Called off; the case waits for a new date.
    Cancelled,
}

/// Interviews in a period, for a day plan.
#[derive(Debug, Clone)]
pub struct InterviewQuery {
    /// Only at this site.
    pub site: Option<SiteId>,
    /// From (inclusive).
    pub from: OffsetDateTime,
    /// Until (exclusive).
    pub until: OffsetDateTime,
}

/// Scheduling many cases on one day at one site.
#[derive(Debug, Clone)]
pub struct BulkSchedule {
    /// The cases, in the order to book them.
    pub cases: Vec<CaseId>,
    /// The site (its rooms are used, by name).
    pub site: SiteId,
    /// The first slot's start.
    pub first: OffsetDateTime,
    /// No interview ends after this.
    pub last_end: OffsetDateTime,
    /// Each interview's length.
    pub length: Duration,
    /// The interviewer.
    pub interviewer: UserId,
    /// The interpreter, if one is needed.
    pub interpreter: Option<InterpreterId>,
    /// The language.
    pub language: Option<String>,
}

/// What a bulk scheduling did.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BulkResult {
    /// The interviews booked.
    pub booked: Vec<Interview>,
    /// The cases left out, with the reason code (`not-found`,
    /// `step-not-allowed`, `double-booked` when no slot was free).
    pub left_out: Vec<(CaseId, &'static str)>,
}
