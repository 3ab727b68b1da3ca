//! Tracing requests as they cross the store boundary.

use lantern_domain::person::PersonId;
use lantern_domain::tracing::{Channel, Consent, ConsentMethod, RequestId, RequestKind, RequestState};
use serde::{Deserialize, Serialize};
use time::OffsetDateTime;

use crate::PageRequest;

/// Who asks: protected (sealed at rest, reads audited).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Requester {
    /// Their name.
    pub name: String,
    /// Their relationship to the person sought.
    pub relationship: String,
    /// How to reach them.
    pub contact: String,
}

/// What the family knows of the person sought (all but one name optional).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct SoughtPerson {
    /// Names in any script and spelling, aliases, organisational names.
    pub names: Vec<String>,
    /// Father's name.
    pub father_name: Option<String>,
    /// Birth date as given (`1975`, `1975-03`, `1970..1975`).
    pub birth_date: Option<String>,
    /// Birth place.
    pub birth_place: Option<String>,
    /// Where and when last seen.
    pub last_seen: Option<String>,
    /// Free notes: anything else the family or the staff want recorded.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub notes: Option<String>,
}

/// A request to file.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NewTracingRequest {
    /// What the family asks for.
    pub kind: RequestKind,
    /// How it came in.
    pub channel: Channel,
    /// Who asks.
    pub requester: Requester,
    /// Whom they seek.
    pub sought: SoughtPerson,
}

/// A candidate the matching engine proposed.
#[derive(Debug, Clone, PartialEq)]
pub struct RequestCandidate {
    /// The registered person.
    pub person: PersonId,
    /// Their primary name.
    pub name: String,
    /// The engine's probability that they are the person sought.
    pub probability: f64,
    /// `proposed`, `confirmed` or `rejected`.
    pub decision: String,
}

/// One recorded state of a request.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RequestStep {
    /// The state reached.
    pub state: RequestState,
    /// When.
    pub at: OffsetDateTime,
    /// Who.
    pub actor_name: String,
    /// Why, in the recorder's words.
    pub reason: Option<String>,
}

/// A recorded consent.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RecordedConsent {
    /// The decision.
    pub consent: Consent,
    /// How it was given.
    pub method: ConsentMethod,
    /// The witness, for a verbal consent.
    pub witness: Option<String>,
    /// The signed form (an evidence record), for a signed consent.
    pub form: Option<lantern_domain::evidence::EvidenceId>,
    /// Who recorded it.
    pub actor_name: String,
    /// When.
    pub at: OffsetDateTime,
}

/// A consent decision to record.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ConsentInput {
    /// What may be passed on (empty: declined or withdrawn).
    pub consent: Consent,
    /// How it was given.
    pub method: ConsentMethod,
    /// The witness (required for a verbal consent).
    pub witness: Option<String>,
    /// The signed form, an evidence record in the vault (required for a
    /// signed consent).
    pub form: Option<lantern_domain::evidence::EvidenceId>,
}

/// A tracing request (without the requester, who is read apart).
#[derive(Debug, Clone, PartialEq)]
pub struct TracingRequest {
    /// Id.
    pub id: RequestId,
    /// The reference given to the family.
    pub reference: String,
    /// Changes with every state.
    pub version: i64,
    /// What the family asks for.
    pub kind: RequestKind,
    /// How it came in.
    pub channel: Channel,
    /// The current state.
    pub state: RequestState,
    /// Whom they seek.
    pub sought: SoughtPerson,
    /// The confirmed match.
    pub matched: Option<(PersonId, String)>,
    /// The consent in force.
    pub consent: Option<RecordedConsent>,
    /// Every candidate proposed, best first.
    pub candidates: Vec<RequestCandidate>,
    /// Every state, oldest first.
    pub steps: Vec<RequestStep>,
    /// When it was filed.
    pub filed_at: OffsetDateTime,
    /// The family gave a photo of the person sought.
    pub has_photo: bool,
}

/// A request in a list.
#[derive(Debug, Clone, PartialEq)]
pub struct RequestSummary {
    /// Id.
    pub id: RequestId,
    /// Reference.
    pub reference: String,
    /// The first name given for the person sought.
    pub sought_name: String,
    /// The kind.
    pub kind: RequestKind,
    /// The state.
    pub state: RequestState,
    /// Candidates still waiting for a decision.
    pub open_candidates: u64,
    /// When it was filed.
    pub filed_at: OffsetDateTime,
}

/// A list of requests.
#[derive(Debug, Clone, Default)]
pub struct RequestQuery {
    /// Only in this state.
    pub state: Option<RequestState>,
    /// Which page, oldest first.
    pub page: PageRequest,
}

/// A message between a family and the person sought.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RequestMessage {
    /// Id.
    pub id: lantern_domain::tracing::MessageId,
    /// Which way it goes.
    pub direction: lantern_domain::tracing::MessageDirection,
    /// The text (protected: sealed at rest, reads audited).
    pub text: String,
    /// When it was recorded.
    pub written_at: OffsetDateTime,
    /// Who recorded it.
    pub written_by: String,
    /// When it was delivered to the resident (messages to the resident).
    pub delivered_at: Option<OffsetDateTime>,
    /// Who delivered it.
    pub delivered_by: Option<String>,
}

/// A room where families meet residents.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct VisitRoom {
    /// Id.
    pub id: lantern_domain::tracing::VisitRoomId,
    /// Its site.
    pub site_id: lantern_domain::person::SiteId,
    /// The site's name.
    pub site: String,
    /// The room's name.
    pub name: String,
    /// Visitors it holds at once.
    pub capacity: u32,
    /// Weekly opening hours (none: always open).
    pub hours: Vec<lantern_domain::interview::Window>,
}

/// A visit to book.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NewVisit {
    /// The request.
    pub request: lantern_domain::tracing::RequestId,
    /// The room.
    pub room: lantern_domain::tracing::VisitRoomId,
    /// When.
    pub slot: lantern_domain::interview::Slot,
    /// Who comes (names; protected).
    pub visitors: Vec<String>,
}

/// A family visit.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Visit {
    /// Id.
    pub id: lantern_domain::tracing::VisitId,
    /// The request.
    pub request: lantern_domain::tracing::RequestId,
    /// The room.
    pub room: lantern_domain::tracing::VisitRoomId,
    /// The room's name.
    pub room_name: String,
    /// The site's name.
    pub site: String,
    /// When.
    pub slot: lantern_domain::interview::Slot,
    /// Who comes.
    pub visitors: Vec<String>,
    /// Where it stands.
    pub status: lantern_domain::tracing::VisitStatus,
    /// Who refused or blocked it.
    pub outcome_by: Option<String>,
    /// The reason given.
    pub outcome_reason: Option<String>,
}

/// Figures of the tracing work, for the requests page and the API.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct TracingFigures {
    /// Open requests by state (closed states left out).
    pub open_by_state: Vec<(RequestState, u64)>,
    /// Requests that reached a first contact (a message delivered or a
    /// visit held).
    pub contacted: u64,
    /// Median days from filing to the first contact.
    pub median_days_to_contact: Option<f64>,
    /// 90th percentile of the same.
    pub p90_days_to_contact: Option<f64>,
    /// The oldest open requests: reference, state, filed at.
    pub oldest_open: Vec<(String, RequestState, OffsetDateTime)>,
    /// Visits held per week (the Monday that starts it), the last 12 weeks.
    pub visits_held_per_week: Vec<(time::Date, u64)>,
}
