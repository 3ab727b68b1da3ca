//! The storage interface of Lantern.
//!
//! One trait, [`Store`], that every backend implements (SQLite now,
//! PostgreSQL for scale), and one [`conformance`] suite every backend must
//! pass. The trait is synchronous and object-safe: the web layer holds an
//! `Arc<dyn Store>` and calls it from a blocking task, which suits both an
//! embedded database and a pool of connections to a server.
//!
//! Every method that changes something takes an [`AuditContext`] and writes
//! its audit event in the same transaction as the change: a change is never
//! acknowledged without its audit row, and a failed audit write undoes the
//! change.

mod cases;
pub mod conformance;
mod evidence;
mod interviews;
mod testimony;
mod tracing;
mod types;

pub use cases::*;
pub use evidence::*;
pub use interviews::*;
pub use testimony::*;
pub use tracing::*;
pub use types::*;

use lantern_domain::family::FamilyLink;
use lantern_domain::person::{HouseholdId, PersonDraft, PersonId, Photo, ProtectedFields, SiteId};
use lantern_domain::user::UserId;
use lantern_domain::FieldError;
use time::OffsetDateTime;

/// Errors of a store operation.
#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    /// The record does not exist (or is deleted).
    #[error("not found")]
    NotFound,
    /// The record was changed by someone else since it was read.
    #[error("the record was changed by someone else (now at version {current})")]
    Conflict {
        /// The version now stored.
        current: i64,
    },
    /// A value refused by a rule the store enforces (uniqueness, references,
    /// family-graph consistency).
    #[error(transparent)]
    Invalid(#[from] FieldError),
    /// The setup link is unknown, used or expired, or setup is already done.
    #[error("the setup link is invalid, used or expired")]
    SetupClosed,
    /// Anything unexpected from the backend; the cause is kept.
    #[error("storage failure: {0}")]
    Backend(#[source] Box<dyn std::error::Error + Send + Sync>),
}

impl StoreError {
    /// Wraps a backend error.
    pub fn backend(e: impl std::error::Error + Send + Sync + 'static) -> Self {
        StoreError::Backend(Box::new(e))
    }
}

/// Result of a store operation.
pub type StoreResult<T> = Result<T, StoreError>;

/// Lantern's storage. See the crate documentation for the guarantees.
pub trait Store: Send + Sync {
    // ----- users, setup, sessions, tokens -----

    /// Number of users (any status).
    fn user_count(&self) -> StoreResult<u64>;
    /// Records a one-time setup token (its hash) valid until `expires_at`.
    fn create_setup_token(&self, token_hash: &str, expires_at: OffsetDateTime) -> StoreResult<()>;
    /// Creates the first administrator if the token is valid and unused and
    /// no user exists yet; consumes the token.
    fn complete_setup(&self, token_hash: &str, user: NewUser, ctx: &AuditContext) -> StoreResult<User>;
    /// Creates a user; a taken username is `Invalid(username, duplicate)`.
    fn create_user(&self, user: NewUser, ctx: &AuditContext) -> StoreResult<User>;
    /// A user by login name, with credentials, for logging in.
    fn user_credentials(&self, username: &str) -> StoreResult<Option<UserCredentials>>;
    /// A user by id.
    fn user(&self, id: UserId) -> StoreResult<Option<User>>;
    /// All users, by username.
    fn users(&self) -> StoreResult<Vec<User>>;
    /// Changes a user; `ctx` records who and the audit action says why.
    fn update_user(&self, id: UserId, change: UserChange, ctx: &AuditContext) -> StoreResult<User>;
    /// Starts a session (and records the login).
    fn create_session(&self, session: NewSession, ctx: &AuditContext) -> StoreResult<()>;
    /// A live session and its (enabled) user.
    fn session(&self, id_hash: &str) -> StoreResult<Option<(SessionRecord, User)>>;
    /// Marks a session as used now (idle expiry is counted from here).
    fn touch_session(&self, id_hash: &str, at: OffsetDateTime) -> StoreResult<()>;
    /// Ends a session; with a context, records the logout.
    fn delete_session(&self, id_hash: &str, ctx: Option<&AuditContext>) -> StoreResult<()>;
    /// Issues an API token (stored hashed).
    fn create_api_token(&self, token: NewApiToken, ctx: &AuditContext) -> StoreResult<ApiToken>;
    /// A user's tokens (never the secrets).
    fn api_tokens(&self, user: UserId) -> StoreResult<Vec<ApiToken>>;
    /// Revokes one of a user's tokens.
    fn revoke_api_token(&self, user: UserId, token: uuid::Uuid, ctx: &AuditContext) -> StoreResult<()>;
    /// The enabled user owning an unrevoked token with this hash; records its use.
    fn user_by_api_token(&self, token_hash: &str, at: OffsetDateTime) -> StoreResult<Option<User>>;

    // ----- sites and households -----

    /// All sites, by name.
    fn sites(&self) -> StoreResult<Vec<Site>>;
    /// Creates a site; a taken name is `Invalid(name, duplicate)`.
    fn create_site(&self, name: &str, ctx: &AuditContext) -> StoreResult<Site>;
    /// Creates a household.
    fn create_household(&self, label: &str, site: Option<SiteId>, ctx: &AuditContext) -> StoreResult<Household>;
    /// Households, by label, paginated.
    fn households(&self, page: PageRequest) -> StoreResult<Page<Household>>;
    /// A household and its (not deleted) members.
    fn household(&self, id: HouseholdId) -> StoreResult<Option<(Household, Vec<PersonSummary>)>>;

    // ----- people -----

    /// Registers a person.
    fn create_person(&self, draft: &PersonDraft, ctx: &AuditContext) -> StoreResult<Person>;
    /// Registers many people in one transaction (imports, demo data).
    fn import_people(&self, drafts: &[PersonDraft], ctx: &AuditContext) -> StoreResult<Vec<PersonId>>;
    /// Replaces a person's content if it is still at `expected_version`.
    fn update_person(
        &self,
        id: PersonId,
        expected_version: i64,
        draft: &PersonDraft,
        ctx: &AuditContext,
    ) -> StoreResult<Person>;
    /// Soft-deletes a person (history and audit stay); removes their family links.
    fn delete_person(&self, id: PersonId, expected_version: i64, ctx: &AuditContext) -> StoreResult<()>;
    /// A person's unprotected content and family links (deleted people are `None`).
    fn person(&self, id: PersonId) -> StoreResult<Option<Person>>;
    /// A person's protected fields; writes the audit event of the read in
    /// the same transaction, so no read goes unrecorded.
    fn read_protected(&self, id: PersonId, ctx: &AuditContext) -> StoreResult<ProtectedFields>;
    /// Sets (or replaces) a person's photo, sealed at rest.
    fn set_photo(&self, id: PersonId, photo: &Photo, ctx: &AuditContext) -> StoreResult<()>;
    /// A person's photo, if any.
    fn photo(&self, id: PersonId) -> StoreResult<Option<Photo>>;
    /// Every person not deleted, handed to `each` one at a time in the
    /// order of their ids, as the matching index is built from them at
    /// start (names, birth date, places, parents' names: the core, never
    /// the protected fields). Read in pages in one read transaction: a list
    /// of a million people, and their rows as read, came to a gigabyte
    /// beside the index being built, and stayed with the process.
    fn match_people(&self, each: &mut dyn FnMut(PersonId, lantern_domain::person::PersonCore)) -> StoreResult<()>;
    /// Summaries of these people, in the given order (missing or deleted
    /// ones left out).
    fn person_summaries(&self, ids: &[PersonId]) -> StoreResult<Vec<PersonSummary>>;
    /// Searches people.
    fn search_people(&self, query: &PersonQuery) -> StoreResult<Page<PersonSummary>>;
    /// Every version of a person, oldest first.
    fn person_history(&self, id: PersonId) -> StoreResult<Vec<PersonVersion>>;
    /// Adds a family link and its inverse.
    fn add_link(&self, link: FamilyLink, ctx: &AuditContext) -> StoreResult<()>;
    /// Removes a family link and its inverse.
    fn remove_link(&self, link: FamilyLink, ctx: &AuditContext) -> StoreResult<()>;

    // ----- cases -----

    /// Opens a case for a resident, at step `registered`; with
    /// `whole_household`, the case covers the resident's household. A
    /// resident with an open case gets no second one
    /// (`Invalid(person_id, duplicate)`).
    fn create_case(&self, person: PersonId, whole_household: bool, ctx: &AuditContext) -> StoreResult<Case>;
    /// A case with its steps and obstacles.
    fn case(&self, id: lantern_domain::case::CaseId) -> StoreResult<Option<Case>>;
    /// Cases, longest waiting at their step first.
    fn cases(&self, query: &CaseQuery) -> StoreResult<Page<CaseSummary>>;
    /// The open cases of a resident (as principal applicant).
    fn cases_of(&self, person: PersonId) -> StoreResult<Vec<CaseSummary>>;
    /// Moves a case from `expected` (its current step, else `Conflict`) to
    /// `to`, if `to` may follow (else `Invalid(step, step-not-allowed)`);
    /// a submission names its country.
    fn move_case(
        &self,
        id: lantern_domain::case::CaseId,
        expected: lantern_domain::case::CaseStep,
        to: lantern_domain::case::CaseStep,
        country: Option<String>,
        ctx: &AuditContext,
    ) -> StoreResult<Case>;
    /// Records an obstacle on a case.
    fn add_obstacle(
        &self,
        id: lantern_domain::case::CaseId,
        obstacle: &NewObstacle,
        ctx: &AuditContext,
    ) -> StoreResult<Obstacle>;
    /// Writes a note or decision on a case (sealed at rest). `about` must be
    /// the resident or a member of the case's household
    /// (`Invalid(about, not-found)` otherwise).
    fn add_case_note(
        &self,
        case: lantern_domain::case::CaseId,
        note: &NewCaseNote,
        ctx: &AuditContext,
    ) -> StoreResult<CaseNote>;
    /// A case's notes without their text, oldest first (listing them is not
    /// a protected read).
    fn case_notes(&self, case: lantern_domain::case::CaseId) -> StoreResult<Vec<CaseNote>>;
    /// A case's notes with their text, oldest first; with `household_copy`,
    /// only those not kept from the household. Writes the audit event of the
    /// read in the same transaction.
    fn read_case_notes(
        &self,
        case: lantern_domain::case::CaseId,
        household_copy: bool,
        ctx: &AuditContext,
    ) -> StoreResult<Vec<CaseNote>>;
    /// The pipeline's figures, for one site or all; waiting times are
    /// counted up to `now`; interviews, obstacles and departures within the
    /// query's period.
    fn pipeline(&self, query: &PipelineQuery, now: OffsetDateTime) -> StoreResult<Pipeline>;

    // ----- interview scheduling -----

    /// Adds a room at a site; a taken name at that site is `Invalid(name, duplicate)`.
    fn create_room(&self, site: SiteId, name: &str, ctx: &AuditContext) -> StoreResult<Room>;
    /// Every room, by site and name.
    fn rooms(&self) -> StoreResult<Vec<Room>>;
    /// Adds an interpreter.
    fn create_interpreter(&self, name: &str, languages: &[String], ctx: &AuditContext) -> StoreResult<Interpreter>;
    /// Every interpreter, by name.
    fn interpreters(&self) -> StoreResult<Vec<Interpreter>>;
    /// Replaces the weekly availability of an interviewer or interpreter
    /// (no window: available at any time).
    fn set_availability(
        &self,
        kind: lantern_domain::interview::ResourceKind,
        id: uuid::Uuid,
        windows: &[lantern_domain::interview::Window],
        ctx: &AuditContext,
    ) -> StoreResult<()>;
    /// Sets the languages an interviewer holds interviews in (tags; empty:
    /// none recorded).
    fn set_interviewer_languages(&self, user: UserId, languages: &[String], ctx: &AuditContext) -> StoreResult<()>;
    /// The languages of every interviewer who has some recorded.
    fn interviewer_languages(&self) -> StoreResult<Vec<(UserId, Vec<String>)>>;
    /// The weekly availability of an interviewer or interpreter.
    fn availability(
        &self,
        kind: lantern_domain::interview::ResourceKind,
        id: uuid::Uuid,
    ) -> StoreResult<Vec<lantern_domain::interview::Window>>;
    /// Books an interview for a case at `interview_requested` and moves the
    /// case to `interview_scheduled`. A room, interviewer, interpreter or
    /// resident already booked at an overlapping time is
    /// `Invalid(room_id | interviewer_id | interpreter_id | case_id, double-booked)`;
    /// a slot outside the interviewer's or interpreter's weekly availability
    /// is `Invalid(interviewer_id | interpreter_id, unavailable)`.
    fn book_interview(&self, interview: &NewInterview, ctx: &AuditContext) -> StoreResult<Interview>;
    /// Books many cases into the free slots of a day, in one transaction;
    /// says which were left out and why.
    fn bulk_schedule(&self, plan: &BulkSchedule, ctx: &AuditContext) -> StoreResult<BulkResult>;
    /// Records what became of a scheduled interview and moves its case on
    /// (see [`InterviewOutcome`]); an interview no longer scheduled is `Conflict`.
    fn close_interview(
        &self,
        id: lantern_domain::interview::InterviewId,
        outcome: &InterviewOutcome,
        ctx: &AuditContext,
    ) -> StoreResult<Interview>;
    /// Interviews in a period, by start and room.
    fn interviews(&self, query: &InterviewQuery) -> StoreResult<Vec<Interview>>;
    /// A case's interviews, oldest first.
    fn case_interviews(&self, case: lantern_domain::case::CaseId) -> StoreResult<Vec<Interview>>;

    // ----- tracing -----

    /// Files a request at state `filed`, with a fresh reference and the
    /// hash of the secret the family uses to follow it.
    fn file_request(
        &self,
        request: &NewTracingRequest,
        secret_hash: &str,
        ctx: &AuditContext,
    ) -> StoreResult<TracingRequest> {
        self.file_request_with_photo(request, None, secret_hash, ctx)
    }
    /// Files a request as [`Store::file_request`] does, with a photo of
    /// the person sought (sealed at rest) in the same transaction.
    fn file_request_with_photo(
        &self,
        request: &NewTracingRequest,
        photo: Option<&lantern_domain::person::Photo>,
        secret_hash: &str,
        ctx: &AuditContext,
    ) -> StoreResult<TracingRequest>;
    /// Sets (or replaces) the photo of the person sought on a request.
    fn set_request_photo(
        &self,
        id: lantern_domain::tracing::RequestId,
        photo: &lantern_domain::person::Photo,
        ctx: &AuditContext,
    ) -> StoreResult<()>;
    /// The photo of the person sought, if the family gave one.
    fn request_photo(
        &self,
        id: lantern_domain::tracing::RequestId,
    ) -> StoreResult<Option<lantern_domain::person::Photo>>;
    /// A request.
    fn tracing_request(&self, id: lantern_domain::tracing::RequestId) -> StoreResult<Option<TracingRequest>>;
    /// Requests, oldest first.
    fn tracing_requests(&self, query: &RequestQuery) -> StoreResult<Page<RequestSummary>>;
    /// The requester's details (protected): writes the audit event of the read.
    fn read_requester(&self, id: lantern_domain::tracing::RequestId, ctx: &AuditContext) -> StoreResult<Requester>;
    /// Replaces what is known of the person sought on a request not yet
    /// closed, from `expected_version` (else `Conflict`); logged and
    /// audited. Pairs rejected on the old description may be proposed
    /// again (their data changed).
    fn edit_request(
        &self,
        id: lantern_domain::tracing::RequestId,
        expected_version: i64,
        sought: &SoughtPerson,
        ctx: &AuditContext,
    ) -> StoreResult<TracingRequest>;
    /// Moves a request from `expected` (else `Conflict`) to `to` if it may
    /// follow (else `Invalid(state, step-not-allowed)`), with a reason.
    fn move_request(
        &self,
        id: lantern_domain::tracing::RequestId,
        expected: lantern_domain::tracing::RequestState,
        to: lantern_domain::tracing::RequestState,
        reason: Option<String>,
        ctx: &AuditContext,
    ) -> StoreResult<TracingRequest>;
    /// Records the engine's candidates for a request that is being searched
    /// (or has candidates waiting, or is just filed: it is then moved to
    /// `searching` first, a step of its own in the same transaction): pairs
    /// already proposed or decided are left as they are; the request moves
    /// to `candidates_found` or `no_candidate`.
    fn propose_candidates(
        &self,
        id: lantern_domain::tracing::RequestId,
        candidates: &[(PersonId, f64)],
        ctx: &AuditContext,
    ) -> StoreResult<TracingRequest>;
    /// Confirms (the request moves to `match_confirmed`) or rejects (it goes
    /// back to `searching` when no proposal is left) a proposed candidate.
    fn decide_candidate(
        &self,
        id: lantern_domain::tracing::RequestId,
        person: PersonId,
        confirm: bool,
        ctx: &AuditContext,
    ) -> StoreResult<TracingRequest>;
    /// Records the sought person's consent for a request waiting for it (or
    /// changes it later): a non-empty scope moves it to `consent_given`,
    /// an empty one to `consent_declined`. A verbal consent needs a
    /// witness, a signed one its form (an existing evidence record).
    fn record_consent(
        &self,
        id: lantern_domain::tracing::RequestId,
        consent: &ConsentInput,
        ctx: &AuditContext,
    ) -> StoreResult<TracingRequest>;
    /// Records a message: the family's news for the person sought (kept
    /// until they consent to messages), or their reply (only with that
    /// consent, else `Invalid(direction, not-consented)`).
    fn add_message(
        &self,
        request: lantern_domain::tracing::RequestId,
        direction: lantern_domain::tracing::MessageDirection,
        text: &str,
        ctx: &AuditContext,
    ) -> StoreResult<RequestMessage>;
    /// Records that the family's message was delivered: only with the
    /// person's consent to messages, once; moves a request from
    /// `consent_given` to `message_delivered`.
    fn deliver_message(
        &self,
        request: lantern_domain::tracing::RequestId,
        message: lantern_domain::tracing::MessageId,
        ctx: &AuditContext,
    ) -> StoreResult<RequestMessage>;
    /// A request's messages, oldest first: writes the audit event of the read.
    fn read_messages(
        &self,
        request: lantern_domain::tracing::RequestId,
        ctx: &AuditContext,
    ) -> StoreResult<Vec<RequestMessage>>;
    /// Adds a visiting room (capacity at least 1; no hours: always open).
    fn create_visit_room(
        &self,
        site: lantern_domain::person::SiteId,
        name: &str,
        capacity: u32,
        hours: &[lantern_domain::interview::Window],
        ctx: &AuditContext,
    ) -> StoreResult<VisitRoom>;
    /// Every visiting room, by site and name.
    fn visit_rooms(&self) -> StoreResult<Vec<VisitRoom>>;
    /// Books a visit: only with the person's consent to visits
    /// (`not-consented`), inside the room's hours (`unavailable`), within its
    /// capacity (`too-long` on `visitors`), and never at the same time as
    /// another visit in the room or of the person (`double-booked`). Moves
    /// the request to `visit_scheduled`.
    fn book_visit(&self, visit: &NewVisit, ctx: &AuditContext) -> StoreResult<Visit>;
    /// Records what became of a scheduled visit: held (the request moves to
    /// `visit_held`), or refused, no-show or blocked (back to
    /// `consent_given`; refused and blocked need who and why).
    fn close_visit(
        &self,
        visit: lantern_domain::tracing::VisitId,
        status: lantern_domain::tracing::VisitStatus,
        outcome_by: Option<String>,
        reason: Option<String>,
        ctx: &AuditContext,
    ) -> StoreResult<Visit>;
    /// A request's visits, with the visitors' names: writes the audit event
    /// of the read.
    fn read_visits(&self, request: lantern_domain::tracing::RequestId, ctx: &AuditContext) -> StoreResult<Vec<Visit>>;
    /// The requests still looking for the person (filed, searching, no
    /// candidate, candidates found) with what they give of the person
    /// sought, for the matching engine's index of requests.
    fn searching_requests(&self) -> StoreResult<Vec<(lantern_domain::tracing::RequestId, SoughtPerson)>>;
    /// Figures of the tracing work at `now` (aggregates only).
    fn tracing_figures(&self, now: time::OffsetDateTime) -> StoreResult<TracingFigures>;
    /// A request by the reference and secret hash a family holds (both must
    /// match), for the family's status page.
    fn request_by_reference(&self, reference: &str, secret_hash: &str) -> StoreResult<Option<TracingRequest>>;

    // ----- evidence -----

    /// Records an evidence file whose object the vault has stored: the
    /// catalogue row (unless the same content is catalogued already, see
    /// [`AddedEvidence::redundant_object`]), the record, the `received`
    /// custody event (and `derived` on the original of a working copy),
    /// their log entries and the audit event, in one transaction.
    fn add_evidence(&self, new: &NewEvidence, ctx: &AuditContext) -> StoreResult<AddedEvidence>;
    /// An evidence record.
    fn evidence(&self, id: lantern_domain::evidence::EvidenceId) -> StoreResult<Option<Evidence>>;
    /// Evidence records, newest first.
    fn evidence_list(&self, page: PageRequest) -> StoreResult<Page<Evidence>>;
    /// An evidence record's protected details: writes the audit event of the read.
    fn read_evidence_details(
        &self,
        id: lantern_domain::evidence::EvidenceId,
        ctx: &AuditContext,
    ) -> StoreResult<EvidenceDetails>;
    /// What opening an evidence file needs; records the custody event
    /// (`accessed` or `exported`, to `counterpart`) and the audit event
    /// first, so no file leaves without a trace.
    fn open_evidence(
        &self,
        id: lantern_domain::evidence::EvidenceId,
        kind: lantern_domain::evidence::CustodyKind,
        counterpart: Option<String>,
        ctx: &AuditContext,
    ) -> StoreResult<EvidenceObject>;
    /// Records that an evidence file (or its physical original) was handed
    /// on: to whom (required) and how.
    fn record_transfer(
        &self,
        id: lantern_domain::evidence::EvidenceId,
        to: &str,
        method: Option<String>,
        ctx: &AuditContext,
    ) -> StoreResult<CustodyEvent>;
    /// The chain of custody of one evidence record, oldest first.
    fn custody(&self, id: lantern_domain::evidence::EvidenceId) -> StoreResult<Vec<CustodyEvent>>;
    /// Every catalogued object.
    fn vault_objects(&self) -> StoreResult<Vec<StoredObject>>;

    // ----- testimonies and dossiers -----

    /// The act types: built-in first, then those administrators added.
    fn act_types(&self) -> StoreResult<Vec<ActType>>;
    /// Adds an act type with its labels by language (a duplicate code is
    /// refused).
    fn add_act_type(
        &self,
        code: &str,
        labels: &std::collections::BTreeMap<String, String>,
        ctx: &AuditContext,
    ) -> StoreResult<ActType>;
    /// Records an event, with its log entry.
    fn create_event(&self, event: &lantern_domain::testimony::EventDraft, ctx: &AuditContext) -> StoreResult<Event>;
    /// An event (its exact place unsealed: callers decide who sees it).
    fn event(&self, id: lantern_domain::testimony::EventId) -> StoreResult<Option<Event>>;
    /// Every event, newest first.
    fn events(&self) -> StoreResult<Vec<Event>>;
    /// Records a testimony (events, evidence, act types and a registered
    /// witness must exist), with its log entry, in one transaction.
    fn create_testimony(
        &self,
        draft: &lantern_domain::testimony::TestimonyDraft,
        ctx: &AuditContext,
    ) -> StoreResult<TestimonySummary>;
    /// Records a testimony together with a new event (which replaces the
    /// draft's events and its acts' event) and a new evidence record (added
    /// to its evidence), all or nothing in one transaction.
    fn record_testimony(
        &self,
        event: Option<&lantern_domain::testimony::EventDraft>,
        evidence: Option<&NewEvidence>,
        draft: &lantern_domain::testimony::TestimonyDraft,
        ctx: &AuditContext,
    ) -> StoreResult<RecordedTestimony>;
    /// The public part of a testimony.
    fn testimony(&self, id: lantern_domain::testimony::TestimonyId) -> StoreResult<Option<TestimonySummary>>;
    /// Testimonies, newest first.
    fn testimonies(&self, page: PageRequest) -> StoreResult<Page<TestimonySummary>>;
    /// Reads a testimony's sealed parts, writing the audit event of the
    /// read: with `confidential`, the witness and the confidential parts too
    /// (`testimony.read_confidential`), else only the parts not marked
    /// confidential.
    fn read_testimony(
        &self,
        id: lantern_domain::testimony::TestimonyId,
        confidential: bool,
        ctx: &AuditContext,
    ) -> StoreResult<TestimonyFull>;
    /// Testimonies with every sealed part open (witness, confidential
    /// parts), oldest first, a page at a time: only for building the
    /// in-memory full-text index, which filters every search by what the
    /// searcher may see. Not audited, as no person reads them here; what a
    /// user opens goes through [`Store::read_testimony`], which is.
    fn testimonies_for_index(&self, page: PageRequest) -> StoreResult<Vec<TestimonyFull>>;
    /// Evidence records, newest first, with their protected details, for
    /// the same index and on the same terms.
    fn evidence_for_index(&self, page: PageRequest) -> StoreResult<Vec<(Evidence, EvidenceDetails)>>;
    /// Records a witness's decision about sharing a testimony with a
    /// recipient (append-only; the latest decision counts).
    fn record_share_decision(
        &self,
        id: lantern_domain::testimony::TestimonyId,
        decision: &NewShareDecision,
        ctx: &AuditContext,
    ) -> StoreResult<ShareRecord>;
    /// A testimony's sharing decisions, oldest first.
    fn share_decisions(&self, id: lantern_domain::testimony::TestimonyId) -> StoreResult<Vec<ShareRecord>>;
    /// Registers a recipient and the external-official accounts that
    /// receive its dossiers.
    fn create_recipient(
        &self,
        name: &str,
        kind: lantern_domain::testimony::RecipientKind,
        language: &str,
        users: &[UserId],
        ctx: &AuditContext,
    ) -> StoreResult<Recipient>;
    /// Every recipient.
    fn recipients(&self) -> StoreResult<Vec<Recipient>>;
    /// Builds a dossier in one transaction: checks each testimony's sharing
    /// decision for the recipient ([`lantern_domain::testimony::may_share`]),
    /// gathers the testimonies' events, their cited evidence with its chain
    /// of custody, appends the dossier's own log entry and the audit event.
    fn create_dossier(
        &self,
        draft: &lantern_domain::testimony::DossierDraft,
        ctx: &AuditContext,
    ) -> StoreResult<Dossier>;
    /// A dossier.
    fn dossier(&self, id: lantern_domain::testimony::DossierId) -> StoreResult<Option<Dossier>>;
    /// Dossiers, newest first; only those for `recipients` when given.
    fn dossiers(&self, recipients: Option<&[lantern_domain::testimony::RecipientId]>) -> StoreResult<Vec<Dossier>>;
    /// Fixes the checkpoint a dossier's bundle proves against (the first
    /// export; later ones reuse it so every copy is the same). Returns the
    /// size now fixed.
    fn fix_dossier_checkpoint(&self, id: lantern_domain::testimony::DossierId, size: u64) -> StoreResult<u64>;
    /// The entries of a dossier (its own first, then its records) with the
    /// values and salts of their fields, for its bundle; writes the audit
    /// event of the download (`dossier.download`) and an `exported` custody
    /// event for each file sent.
    fn dossier_disclosures(
        &self,
        id: lantern_domain::testimony::DossierId,
        ctx: &AuditContext,
    ) -> StoreResult<Vec<Disclosure>>;

    // ----- keys -----

    /// How many sealed values each master-key generation seals, by table.
    fn key_usage(&self) -> StoreResult<Vec<KeyUsage>>;
    /// Re-seals every value not sealed under the keyring's newest
    /// generation, a page of rows per short transaction, while the server
    /// keeps serving; returns how many were re-sealed.
    fn reseal(&self) -> StoreResult<u64>;

    // ----- ledger -----

    /// Number of log entries.
    fn ledger_size(&self) -> StoreResult<u64>;
    /// Log entries with `start <= seq < end`.
    fn ledger_entries(&self, start: u64, end: u64) -> StoreResult<Vec<LedgerEntry>>;
    /// The leaf hashes of the first `end` entries.
    fn ledger_leaf_hashes(&self, end: u64) -> StoreResult<Vec<lantern_ledger::Hash>>;
    /// The root of the log's first `size` entries, from stored nodes
    /// (O(log n) reads).
    fn ledger_root(&self, size: u64) -> StoreResult<lantern_ledger::Hash>;
    /// The inclusion proof of entry `index` in the log of `size` entries.
    fn ledger_inclusion_proof(&self, index: u64, size: u64) -> StoreResult<Vec<lantern_ledger::Hash>>;
    /// The consistency proof between the logs of `size1` and `size2` entries.
    fn ledger_consistency_proof(&self, size1: u64, size2: u64) -> StoreResult<Vec<lantern_ledger::Hash>>;
    /// Stored subtree hashes (level, index, hash) for audits, in (level,
    /// index) order: those after `after` (from the first when `None`), at
    /// most `limit`. A large log has tens of millions: an audit reads them
    /// a page at a time.
    fn ledger_nodes(
        &self,
        after: Option<(u32, u64)>,
        limit: usize,
    ) -> StoreResult<Vec<(u32, u64, lantern_ledger::Hash)>>;
    /// The salts of an entry's commitments (private: for disclosures).
    fn ledger_salts(&self, seq: u64) -> StoreResult<Vec<(String, [u8; 32])>>;
    /// Stores a signed checkpoint (a second one of the same size is ignored).
    fn add_checkpoint(&self, checkpoint: &StoredCheckpoint) -> StoreResult<()>;
    /// Every stored checkpoint, by size.
    fn checkpoints(&self) -> StoreResult<Vec<StoredCheckpoint>>;
    /// The largest stored checkpoint (read every few seconds by the signer,
    /// so it must not load the whole history).
    fn latest_checkpoint(&self) -> StoreResult<Option<StoredCheckpoint>>;
    /// Compares every record with its latest log entry (recomputing the
    /// commitments of its current fields) and reports each difference.
    fn check_records(&self) -> StoreResult<Vec<Discrepancy>>;

    // ----- audit and figures -----

    /// Records an event that is not part of a change (failed login, denial).
    fn record_audit(&self, event: &NewAuditEvent) -> StoreResult<()>;
    /// Audit events, newest first, filtered and paginated.
    fn audit_events(&self, filter: &AuditFilter) -> StoreResult<Page<AuditEvent>>;
    /// Counts for the dashboard.
    fn stats(&self) -> StoreResult<Stats>;
}

/// Signs a checkpoint of the log if it grew since the last one: the C2SP
/// `tlog-checkpoint` body of its current size and root, signed by the log's
/// key (whose name is the log's origin). Two signers racing for the same
/// size both succeed: the second finds the checkpoint already stored.
pub fn sign_checkpoint(
    store: &dyn Store,
    signer: &lantern_ledger::note::NoteSigner,
    now: OffsetDateTime,
) -> StoreResult<Option<StoredCheckpoint>> {
    let size = store.ledger_size()?;
    let latest = store.latest_checkpoint()?.map(|c| c.size).unwrap_or(0);
    if size == 0 || size == latest {
        return Ok(None);
    }
    let root = store.ledger_root(size)?;
    let body = lantern_ledger::note::Checkpoint {
        origin: signer.name().to_string(),
        size,
        root,
    }
    .body();
    let stored = StoredCheckpoint {
        size,
        root,
        note: signer.sign(&body),
        at: now,
    };
    match store.add_checkpoint(&stored) {
        Ok(()) => Ok(Some(stored)),
        Err(e) => match store.checkpoints()?.into_iter().find(|c| c.size == size) {
            Some(existing) => Ok(Some(existing)),
            None => Err(e),
        },
    }
}
