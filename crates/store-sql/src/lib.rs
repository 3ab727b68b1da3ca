//! The SQL Lantern's database backends share.
//!
//! SQLite (embedded, one machine) and PostgreSQL (for scale) keep the same
//! tables and run the same statements, so they behave the same: this crate
//! implements the whole [`lantern_store::Store`] trait once, over the small
//! [`Backend`] interface (open a read or write transaction, run statements
//! in it). A backend crate brings the connections, its migrations and
//! anything only it can do. See [`sql`] for the SQL dialect the statements
//! keep to.

mod cases;
pub mod copy;
mod evidence;
mod interviews;
mod keys;
mod ledger;
pub mod migration_cases;
mod people;
pub mod sql;
mod testimony;
mod tracing;
mod users;
mod util;
mod visits;

use std::sync::Arc;

use lantern_store::{AuditEvent, AuditFilter, NewAuditEvent, Page, Stats, StoreResult};
use lantern_vault::Keyring;

pub use sql::{Backend, Conn, ConnExt, FromValue, Row, Value};
use util::parse_id;
pub use util::{fmt_ts, parse_ts};

/// Lantern's store on a SQL backend.
pub struct SqlStore<B> {
    db: B,
    keys: Arc<Keyring>,
}

impl<B: std::fmt::Debug> std::fmt::Debug for SqlStore<B> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SqlStore").field("db", &self.db).finish()
    }
}

impl<B: Backend> SqlStore<B> {
    /// A store on `db`, whose schema the backend has brought up to date;
    /// `keys` seal the protected fields. Completes the ledger's node table
    /// if entries were appended before it existed.
    pub fn new(db: B, keys: Arc<Keyring>) -> StoreResult<Self> {
        let store = SqlStore { db, keys };
        store.backfill_nodes()?;
        Ok(store)
    }

    /// The backend.
    pub fn backend(&self) -> &B {
        &self.db
    }

    pub(crate) fn write<T>(&self, f: impl FnOnce(&dyn Conn) -> StoreResult<T>) -> StoreResult<T> {
        self.db.write(f)
    }

    pub(crate) fn read<T>(&self, f: impl FnOnce(&dyn Conn) -> StoreResult<T>) -> StoreResult<T> {
        self.db.read(f)
    }

    pub(crate) fn keys(&self) -> &Keyring {
        &self.keys
    }
}

/// The commitments an audit event's log entry carries.
pub(crate) fn audit_commitments(
    fields: &[(&str, Option<&str>)],
    salts: &mut dyn FnMut(&str) -> StoreResult<[u8; 32]>,
) -> StoreResult<lantern_ledger::entry::Commitments> {
    let mut c = lantern_ledger::entry::Commitments::new();
    for (name, value) in fields {
        c.add(name, value, salts(name)?);
    }
    Ok(c)
}

/// The fields of an audit event as committed to in the log.
pub(crate) fn audit_fields(e: &NewAuditEvent, at: &str) -> Vec<(&'static str, Option<String>)> {
    vec![
        ("at", Some(at.to_string())),
        ("actor_id", e.ctx.actor_id.map(|i| i.to_string())),
        ("actor_name", Some(e.ctx.actor_name.clone())),
        ("action", Some(e.action.code().to_string())),
        ("record_kind", Some(e.record_kind.clone())),
        ("record_id", e.record_id.clone()),
        ("request_id", Some(e.ctx.request_id.clone())),
        ("address", e.ctx.address.clone()),
        ("detail", Some(e.detail.clone())),
    ]
}

/// Appends an audit event, and its log entry, inside the caller's transaction.
pub(crate) fn insert_audit(tx: &dyn Conn, e: &NewAuditEvent) -> StoreResult<()> {
    let at = fmt_ts(e.ctx.at);
    let seq: i64 = tx.query_value(
        "INSERT INTO audit_events (at, actor_id, actor_name, action, record_kind, record_id, request_id, address, detail)
         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9) RETURNING seq",
        params![
            at.as_str(),
            e.ctx.actor_id.map(|i| i.to_string()),
            &e.ctx.actor_name,
            e.action.code(),
            &e.record_kind,
            e.record_id.clone(),
            &e.ctx.request_id,
            e.ctx.address.clone(),
            &e.detail,
        ],
    )?;
    let fields = audit_fields(e, &at);
    let borrowed: Vec<(&str, Option<&str>)> = fields.iter().map(|(k, v)| (*k, v.as_deref())).collect();
    let commitments = audit_commitments(&borrowed, &mut |_| ledger::salt())?;
    ledger::append(
        tx,
        ledger::EntryHead {
            kind: "audit",
            record_kind: "audit",
            record_id: &seq.to_string(),
            version: None,
            at: e.ctx.at,
        },
        commitments,
    )?;
    Ok(())
}

/// How many people `Store::match_people` reads at a time.
pub const MATCH_PAGE: usize = 5_000;

impl<B: Backend> SqlStore<B> {
    /// `Store::match_people` reading `page` people at a time (at least
    /// one), for tests that cross the pages' boundaries.
    pub fn match_people_in_pages(
        &self,
        page: usize,
        each: &mut dyn FnMut(lantern_domain::person::PersonId, lantern_domain::person::PersonCore),
    ) -> StoreResult<()> {
        self.each_core(page.max(1), each)
    }

    fn audit_page(&self, filter: &AuditFilter) -> StoreResult<Page<AuditEvent>> {
        let mut clauses = Vec::new();
        let mut args: Vec<Value> = Vec::new();
        let mut arg = |v: Value, clause: &dyn Fn(usize) -> String| {
            args.push(v);
            clauses.push(clause(args.len()));
        };
        if let Some(a) = &filter.actor {
            arg(a.into(), &|n| format!("actor_name = ?{n}"));
        }
        if let Some(a) = &filter.action {
            arg(a.into(), &|n| format!("action = ?{n}"));
        }
        if let Some(r) = &filter.record_id {
            arg(r.into(), &|n| format!("record_id = ?{n}"));
        }
        if let Some(t) = filter.from {
            arg(fmt_ts(t).into(), &|n| format!("at >= ?{n}"));
        }
        if let Some(t) = filter.until {
            arg(fmt_ts(t).into(), &|n| format!("at < ?{n}"));
        }
        if let Some(seq) = filter.max_seq {
            arg(seq.into(), &|n| format!("seq <= ?{n}"));
        }
        let where_sql = if clauses.is_empty() {
            String::new()
        } else {
            format!("WHERE {}", clauses.join(" AND "))
        };
        let page = filter.page;
        self.read(|tx| {
            let total: i64 = tx.query_value(&format!("SELECT COUNT(*) FROM audit_events {where_sql}"), &args)?;
            let sql = format!(
                "SELECT seq, at, actor_id, actor_name, action, record_kind, record_id, request_id, address, detail
                 FROM audit_events {where_sql} ORDER BY seq DESC LIMIT {} OFFSET {}",
                page.size,
                page.offset()
            );
            let items = tx
                .query(&sql, &args)?
                .into_iter()
                .map(|r| {
                    Ok(AuditEvent {
                        seq: r.get(0)?,
                        at: parse_ts(&r.get::<String>(1)?)?,
                        actor_id: r
                            .get::<Option<String>>(2)?
                            .map(|s| parse_id(&s))
                            .transpose()?
                            .map(lantern_domain::user::UserId),
                        actor_name: r.get(3)?,
                        action: r.get(4)?,
                        record_kind: r.get(5)?,
                        record_id: r.get(6)?,
                        request_id: r.get(7)?,
                        address: r.get(8)?,
                        detail: r.get(9)?,
                    })
                })
                .collect::<StoreResult<Vec<_>>>()?;
            Ok(Page {
                items,
                page: page.page,
                size: page.size,
                total: total as u64,
                total_is_lower_bound: false,
            })
        })
    }

    fn stats_now(&self) -> StoreResult<Stats> {
        self.read(|tx| {
            // People from the counts the database keeps per status and site.
            let people: u64 = tx.query_value("SELECT CAST(COALESCE(SUM(n), 0) AS BIGINT) FROM people_counts", &[])?;
            let households: u64 = tx.query_value("SELECT COUNT(*) FROM households", &[])?;
            let by_status = tx
                .query(
                    "SELECT status, CAST(SUM(n) AS BIGINT) FROM people_counts
                     GROUP BY status HAVING SUM(n) > 0 ORDER BY 2 DESC, 1",
                    &[],
                )?
                .into_iter()
                .map(|r| Ok((r.get(0)?, r.get(1)?)))
                .collect::<StoreResult<Vec<_>>>()?;
            let by_site = tx
                .query(
                    "SELECT s.name, CAST(SUM(c.n) AS BIGINT) FROM people_counts c LEFT JOIN sites s ON s.id = c.site_id
                     GROUP BY s.name HAVING SUM(c.n) > 0 ORDER BY 2 DESC, 1",
                    &[],
                )?
                .into_iter()
                .map(|r| Ok((r.get(0)?, r.get(1)?)))
                .collect::<StoreResult<Vec<_>>>()?;
            Ok(Stats {
                people,
                households,
                by_status,
                by_site,
            })
        })
    }

    fn record(&self, event: &NewAuditEvent) -> StoreResult<()> {
        self.write(|tx| insert_audit(tx, event))
    }

    /// Appends audit events, each with its log entry, in one transaction:
    /// the batched append (many entries per durable commit) that the
    /// ledger's append benchmark measures.
    pub fn record_batch(&self, events: &[NewAuditEvent]) -> StoreResult<()> {
        self.write(|tx| events.iter().try_for_each(|e| insert_audit(tx, e)))
    }
}

impl<B: Backend> lantern_store::Store for SqlStore<B> {
    fn user_count(&self) -> StoreResult<u64> {
        self.count_users()
    }
    fn create_setup_token(&self, token_hash: &str, expires_at: time::OffsetDateTime) -> StoreResult<()> {
        self.add_setup_token(token_hash, expires_at)
    }
    fn complete_setup(
        &self,
        token_hash: &str,
        user: lantern_store::NewUser,
        ctx: &lantern_store::AuditContext,
    ) -> StoreResult<lantern_store::User> {
        self.setup(token_hash, user, ctx)
    }
    fn create_user(
        &self,
        user: lantern_store::NewUser,
        ctx: &lantern_store::AuditContext,
    ) -> StoreResult<lantern_store::User> {
        self.add_user(user, ctx)
    }
    fn user_credentials(&self, username: &str) -> StoreResult<Option<lantern_store::UserCredentials>> {
        self.credentials(username)
    }
    fn user(&self, id: lantern_domain::user::UserId) -> StoreResult<Option<lantern_store::User>> {
        self.get_user(id)
    }
    fn users(&self) -> StoreResult<Vec<lantern_store::User>> {
        self.all_users()
    }
    fn update_user(
        &self,
        id: lantern_domain::user::UserId,
        change: lantern_store::UserChange,
        ctx: &lantern_store::AuditContext,
    ) -> StoreResult<lantern_store::User> {
        self.change_user(id, change, ctx)
    }
    fn create_session(&self, session: lantern_store::NewSession, ctx: &lantern_store::AuditContext) -> StoreResult<()> {
        self.add_session(session, ctx)
    }
    fn session(&self, id_hash: &str) -> StoreResult<Option<(lantern_store::SessionRecord, lantern_store::User)>> {
        self.get_session(id_hash)
    }
    fn touch_session(&self, id_hash: &str, at: time::OffsetDateTime) -> StoreResult<()> {
        self.touch(id_hash, at)
    }
    fn delete_session(&self, id_hash: &str, ctx: Option<&lantern_store::AuditContext>) -> StoreResult<()> {
        self.end_session(id_hash, ctx)
    }
    fn create_api_token(
        &self,
        token: lantern_store::NewApiToken,
        ctx: &lantern_store::AuditContext,
    ) -> StoreResult<lantern_store::ApiToken> {
        self.add_api_token(token, ctx)
    }
    fn api_tokens(&self, user: lantern_domain::user::UserId) -> StoreResult<Vec<lantern_store::ApiToken>> {
        self.list_api_tokens(user)
    }
    fn revoke_api_token(
        &self,
        user: lantern_domain::user::UserId,
        token: uuid::Uuid,
        ctx: &lantern_store::AuditContext,
    ) -> StoreResult<()> {
        self.revoke_token(user, token, ctx)
    }
    fn user_by_api_token(
        &self,
        token_hash: &str,
        at: time::OffsetDateTime,
    ) -> StoreResult<Option<lantern_store::User>> {
        self.token_user(token_hash, at)
    }
    fn sites(&self) -> StoreResult<Vec<lantern_store::Site>> {
        self.all_sites()
    }
    fn create_site(&self, name: &str, ctx: &lantern_store::AuditContext) -> StoreResult<lantern_store::Site> {
        self.add_site(name, ctx)
    }
    fn create_household(
        &self,
        label: &str,
        site: Option<lantern_domain::person::SiteId>,
        ctx: &lantern_store::AuditContext,
    ) -> StoreResult<lantern_store::Household> {
        self.add_household(label, site, ctx)
    }
    fn households(&self, page: lantern_store::PageRequest) -> StoreResult<Page<lantern_store::Household>> {
        self.household_page(page)
    }
    fn household(
        &self,
        id: lantern_domain::person::HouseholdId,
    ) -> StoreResult<Option<(lantern_store::Household, Vec<lantern_store::PersonSummary>)>> {
        self.household_with_members(id)
    }
    fn create_person(
        &self,
        draft: &lantern_domain::person::PersonDraft,
        ctx: &lantern_store::AuditContext,
    ) -> StoreResult<lantern_store::Person> {
        self.new_person(draft, ctx)
    }
    fn import_people(
        &self,
        drafts: &[lantern_domain::person::PersonDraft],
        ctx: &lantern_store::AuditContext,
    ) -> StoreResult<Vec<lantern_domain::person::PersonId>> {
        self.import(drafts, ctx)
    }
    fn update_person(
        &self,
        id: lantern_domain::person::PersonId,
        expected_version: i64,
        draft: &lantern_domain::person::PersonDraft,
        ctx: &lantern_store::AuditContext,
    ) -> StoreResult<lantern_store::Person> {
        self.change_person(id, expected_version, draft, ctx)
    }
    fn delete_person(
        &self,
        id: lantern_domain::person::PersonId,
        expected_version: i64,
        ctx: &lantern_store::AuditContext,
    ) -> StoreResult<()> {
        self.remove_person(id, expected_version, ctx)
    }
    fn person(&self, id: lantern_domain::person::PersonId) -> StoreResult<Option<lantern_store::Person>> {
        self.get_person(id)
    }
    fn read_protected(
        &self,
        id: lantern_domain::person::PersonId,
        ctx: &lantern_store::AuditContext,
    ) -> StoreResult<lantern_domain::person::ProtectedFields> {
        self.protected_of(id, ctx)
    }
    fn set_photo(
        &self,
        id: lantern_domain::person::PersonId,
        photo: &lantern_domain::person::Photo,
        ctx: &lantern_store::AuditContext,
    ) -> StoreResult<()> {
        self.store_photo(id, photo, ctx)
    }
    fn photo(&self, id: lantern_domain::person::PersonId) -> StoreResult<Option<lantern_domain::person::Photo>> {
        self.load_photo(id)
    }
    fn match_people(
        &self,
        each: &mut dyn FnMut(lantern_domain::person::PersonId, lantern_domain::person::PersonCore),
    ) -> StoreResult<()> {
        self.match_people_in_pages(MATCH_PAGE, each)
    }
    fn person_summaries(
        &self,
        ids: &[lantern_domain::person::PersonId],
    ) -> StoreResult<Vec<lantern_store::PersonSummary>> {
        self.summaries(ids)
    }
    fn search_people(&self, query: &lantern_store::PersonQuery) -> StoreResult<Page<lantern_store::PersonSummary>> {
        self.search(query)
    }
    fn person_history(&self, id: lantern_domain::person::PersonId) -> StoreResult<Vec<lantern_store::PersonVersion>> {
        self.history(id)
    }
    fn add_link(&self, link: lantern_domain::family::FamilyLink, ctx: &lantern_store::AuditContext) -> StoreResult<()> {
        self.link(link, ctx)
    }
    fn remove_link(
        &self,
        link: lantern_domain::family::FamilyLink,
        ctx: &lantern_store::AuditContext,
    ) -> StoreResult<()> {
        self.unlink(link, ctx)
    }
    fn create_case(
        &self,
        person: lantern_domain::person::PersonId,
        whole_household: bool,
        ctx: &lantern_store::AuditContext,
    ) -> StoreResult<lantern_store::Case> {
        self.open_case(person, whole_household, ctx)
    }
    fn case(&self, id: lantern_domain::case::CaseId) -> StoreResult<Option<lantern_store::Case>> {
        self.get_case(id)
    }
    fn cases(&self, query: &lantern_store::CaseQuery) -> StoreResult<Page<lantern_store::CaseSummary>> {
        self.case_page(query)
    }
    fn cases_of(&self, person: lantern_domain::person::PersonId) -> StoreResult<Vec<lantern_store::CaseSummary>> {
        self.person_cases(person)
    }
    fn move_case(
        &self,
        id: lantern_domain::case::CaseId,
        expected: lantern_domain::case::CaseStep,
        to: lantern_domain::case::CaseStep,
        country: Option<String>,
        ctx: &lantern_store::AuditContext,
    ) -> StoreResult<lantern_store::Case> {
        self.step_case(id, expected, to, country, ctx)
    }
    fn add_obstacle(
        &self,
        id: lantern_domain::case::CaseId,
        obstacle: &lantern_store::NewObstacle,
        ctx: &lantern_store::AuditContext,
    ) -> StoreResult<lantern_store::Obstacle> {
        self.record_obstacle(id, obstacle, ctx)
    }
    fn add_case_note(
        &self,
        case: lantern_domain::case::CaseId,
        note: &lantern_store::NewCaseNote,
        ctx: &lantern_store::AuditContext,
    ) -> StoreResult<lantern_store::CaseNote> {
        self.write_case_note(case, note, ctx)
    }
    fn case_notes(&self, case: lantern_domain::case::CaseId) -> StoreResult<Vec<lantern_store::CaseNote>> {
        self.list_case_notes(case)
    }
    fn read_case_notes(
        &self,
        case: lantern_domain::case::CaseId,
        household_copy: bool,
        ctx: &lantern_store::AuditContext,
    ) -> StoreResult<Vec<lantern_store::CaseNote>> {
        self.open_case_notes(case, household_copy, ctx)
    }
    fn pipeline(
        &self,
        query: &lantern_store::PipelineQuery,
        now: time::OffsetDateTime,
    ) -> StoreResult<lantern_store::Pipeline> {
        self.pipeline_figures(query, now)
    }
    fn create_room(
        &self,
        site: lantern_domain::person::SiteId,
        name: &str,
        ctx: &lantern_store::AuditContext,
    ) -> StoreResult<lantern_store::Room> {
        self.add_room(site, name, ctx)
    }
    fn rooms(&self) -> StoreResult<Vec<lantern_store::Room>> {
        self.all_rooms()
    }
    fn create_interpreter(
        &self,
        name: &str,
        languages: &[String],
        ctx: &lantern_store::AuditContext,
    ) -> StoreResult<lantern_store::Interpreter> {
        self.add_interpreter(name, languages, ctx)
    }
    fn interpreters(&self) -> StoreResult<Vec<lantern_store::Interpreter>> {
        self.all_interpreters()
    }
    fn set_availability(
        &self,
        kind: lantern_domain::interview::ResourceKind,
        id: uuid::Uuid,
        windows: &[lantern_domain::interview::Window],
        ctx: &lantern_store::AuditContext,
    ) -> StoreResult<()> {
        self.put_availability(kind, id, windows, ctx)
    }
    fn availability(
        &self,
        kind: lantern_domain::interview::ResourceKind,
        id: uuid::Uuid,
    ) -> StoreResult<Vec<lantern_domain::interview::Window>> {
        self.get_availability(kind, id)
    }
    fn set_interviewer_languages(
        &self,
        user: lantern_domain::user::UserId,
        languages: &[String],
        ctx: &lantern_store::AuditContext,
    ) -> StoreResult<()> {
        self.put_interviewer_languages(user, languages, ctx)
    }
    fn interviewer_languages(&self) -> StoreResult<Vec<(lantern_domain::user::UserId, Vec<String>)>> {
        self.all_interviewer_languages()
    }
    fn book_interview(
        &self,
        interview: &lantern_store::NewInterview,
        ctx: &lantern_store::AuditContext,
    ) -> StoreResult<lantern_store::Interview> {
        self.book(interview, ctx)
    }
    fn bulk_schedule(
        &self,
        plan: &lantern_store::BulkSchedule,
        ctx: &lantern_store::AuditContext,
    ) -> StoreResult<lantern_store::BulkResult> {
        self.bulk(plan, ctx)
    }
    fn close_interview(
        &self,
        id: lantern_domain::interview::InterviewId,
        outcome: &lantern_store::InterviewOutcome,
        ctx: &lantern_store::AuditContext,
    ) -> StoreResult<lantern_store::Interview> {
        self.close(id, outcome, ctx)
    }
    fn interviews(&self, query: &lantern_store::InterviewQuery) -> StoreResult<Vec<lantern_store::Interview>> {
        self.interview_list(query)
    }
    fn case_interviews(&self, case: lantern_domain::case::CaseId) -> StoreResult<Vec<lantern_store::Interview>> {
        self.interviews_of_case(case)
    }
    fn file_request_with_photo(
        &self,
        request: &lantern_store::NewTracingRequest,
        photo: Option<&lantern_domain::person::Photo>,
        secret_hash: &str,
        ctx: &lantern_store::AuditContext,
    ) -> StoreResult<lantern_store::TracingRequest> {
        self.file(request, photo, secret_hash, ctx)
    }
    fn set_request_photo(
        &self,
        id: lantern_domain::tracing::RequestId,
        photo: &lantern_domain::person::Photo,
        ctx: &lantern_store::AuditContext,
    ) -> StoreResult<()> {
        self.write(|tx| {
            if crate::tracing::load(tx, id)?.is_none() {
                return Err(lantern_store::StoreError::NotFound);
            }
            self.put_request_photo(tx, id, photo, ctx)
        })
    }
    fn request_photo(
        &self,
        id: lantern_domain::tracing::RequestId,
    ) -> StoreResult<Option<lantern_domain::person::Photo>> {
        self.load_request_photo(id)
    }
    fn tracing_request(
        &self,
        id: lantern_domain::tracing::RequestId,
    ) -> StoreResult<Option<lantern_store::TracingRequest>> {
        self.get_request(id)
    }
    fn tracing_requests(
        &self,
        query: &lantern_store::RequestQuery,
    ) -> StoreResult<Page<lantern_store::RequestSummary>> {
        self.request_page(query)
    }
    fn read_requester(
        &self,
        id: lantern_domain::tracing::RequestId,
        ctx: &lantern_store::AuditContext,
    ) -> StoreResult<lantern_store::Requester> {
        self.requester_of(id, ctx)
    }
    fn edit_request(
        &self,
        id: lantern_domain::tracing::RequestId,
        expected_version: i64,
        sought: &lantern_store::SoughtPerson,
        ctx: &lantern_store::AuditContext,
    ) -> StoreResult<lantern_store::TracingRequest> {
        self.edit_sought(id, expected_version, sought, ctx)
    }
    fn move_request(
        &self,
        id: lantern_domain::tracing::RequestId,
        expected: lantern_domain::tracing::RequestState,
        to: lantern_domain::tracing::RequestState,
        reason: Option<String>,
        ctx: &lantern_store::AuditContext,
    ) -> StoreResult<lantern_store::TracingRequest> {
        self.step_request(id, expected, to, reason, ctx)
    }
    fn propose_candidates(
        &self,
        id: lantern_domain::tracing::RequestId,
        candidates: &[(lantern_domain::person::PersonId, f64)],
        ctx: &lantern_store::AuditContext,
    ) -> StoreResult<lantern_store::TracingRequest> {
        self.record_candidates(id, candidates, ctx)
    }
    fn decide_candidate(
        &self,
        id: lantern_domain::tracing::RequestId,
        person: lantern_domain::person::PersonId,
        confirm: bool,
        ctx: &lantern_store::AuditContext,
    ) -> StoreResult<lantern_store::TracingRequest> {
        self.decide(id, person, confirm, ctx)
    }
    fn record_consent(
        &self,
        id: lantern_domain::tracing::RequestId,
        consent: &lantern_store::ConsentInput,
        ctx: &lantern_store::AuditContext,
    ) -> StoreResult<lantern_store::TracingRequest> {
        self.consent(id, consent, ctx)
    }
    fn add_evidence(
        &self,
        new: &lantern_store::NewEvidence,
        ctx: &lantern_store::AuditContext,
    ) -> StoreResult<lantern_store::AddedEvidence> {
        self.add_evidence_in(new, ctx)
    }
    fn evidence(&self, id: lantern_domain::evidence::EvidenceId) -> StoreResult<Option<lantern_store::Evidence>> {
        self.evidence_by_id(id)
    }
    fn evidence_list(&self, page: lantern_store::PageRequest) -> StoreResult<Page<lantern_store::Evidence>> {
        self.evidence_page(page)
    }
    fn read_evidence_details(
        &self,
        id: lantern_domain::evidence::EvidenceId,
        ctx: &lantern_store::AuditContext,
    ) -> StoreResult<lantern_store::EvidenceDetails> {
        self.evidence_details(id, ctx)
    }
    fn open_evidence(
        &self,
        id: lantern_domain::evidence::EvidenceId,
        kind: lantern_domain::evidence::CustodyKind,
        counterpart: Option<String>,
        ctx: &lantern_store::AuditContext,
    ) -> StoreResult<lantern_store::EvidenceObject> {
        self.open_evidence_in(id, kind, counterpart, ctx)
    }
    fn record_transfer(
        &self,
        id: lantern_domain::evidence::EvidenceId,
        to: &str,
        method: Option<String>,
        ctx: &lantern_store::AuditContext,
    ) -> StoreResult<lantern_store::CustodyEvent> {
        self.transfer(id, to, method, ctx)
    }
    fn act_types(&self) -> StoreResult<Vec<lantern_store::ActType>> {
        self.all_act_types()
    }
    fn add_act_type(
        &self,
        code: &str,
        labels: &std::collections::BTreeMap<String, String>,
        ctx: &lantern_store::AuditContext,
    ) -> StoreResult<lantern_store::ActType> {
        self.insert_act_type(code, labels, ctx)
    }
    fn create_event(
        &self,
        event: &lantern_domain::testimony::EventDraft,
        ctx: &lantern_store::AuditContext,
    ) -> StoreResult<lantern_store::Event> {
        self.insert_event(event, ctx)
    }
    fn event(&self, id: lantern_domain::testimony::EventId) -> StoreResult<Option<lantern_store::Event>> {
        self.event_by_id(id)
    }
    fn events(&self) -> StoreResult<Vec<lantern_store::Event>> {
        self.all_events()
    }
    fn create_testimony(
        &self,
        draft: &lantern_domain::testimony::TestimonyDraft,
        ctx: &lantern_store::AuditContext,
    ) -> StoreResult<lantern_store::TestimonySummary> {
        self.insert_testimony(draft, ctx)
    }
    fn record_testimony(
        &self,
        event: Option<&lantern_domain::testimony::EventDraft>,
        evidence: Option<&lantern_store::NewEvidence>,
        draft: &lantern_domain::testimony::TestimonyDraft,
        ctx: &lantern_store::AuditContext,
    ) -> StoreResult<lantern_store::RecordedTestimony> {
        self.insert_testimony_with(event, evidence, draft, ctx)
    }
    fn testimony(
        &self,
        id: lantern_domain::testimony::TestimonyId,
    ) -> StoreResult<Option<lantern_store::TestimonySummary>> {
        self.testimony_by_id(id)
    }
    fn testimonies(&self, page: lantern_store::PageRequest) -> StoreResult<Page<lantern_store::TestimonySummary>> {
        self.testimony_page(page)
    }
    fn read_testimony(
        &self,
        id: lantern_domain::testimony::TestimonyId,
        confidential: bool,
        ctx: &lantern_store::AuditContext,
    ) -> StoreResult<lantern_store::TestimonyFull> {
        self.read_testimony_in(id, confidential, ctx)
    }
    fn testimonies_for_index(
        &self,
        page: lantern_store::PageRequest,
    ) -> StoreResult<Vec<lantern_store::TestimonyFull>> {
        self.testimonies_unsealed(page)
    }
    fn evidence_for_index(
        &self,
        page: lantern_store::PageRequest,
    ) -> StoreResult<Vec<(lantern_store::Evidence, lantern_store::EvidenceDetails)>> {
        self.evidence_unsealed(page)
    }
    fn record_share_decision(
        &self,
        id: lantern_domain::testimony::TestimonyId,
        decision: &lantern_store::NewShareDecision,
        ctx: &lantern_store::AuditContext,
    ) -> StoreResult<lantern_store::ShareRecord> {
        self.insert_share(id, decision, ctx)
    }
    fn share_decisions(
        &self,
        id: lantern_domain::testimony::TestimonyId,
    ) -> StoreResult<Vec<lantern_store::ShareRecord>> {
        self.shares_of(id)
    }
    fn create_recipient(
        &self,
        name: &str,
        kind: lantern_domain::testimony::RecipientKind,
        language: &str,
        users: &[lantern_domain::user::UserId],
        ctx: &lantern_store::AuditContext,
    ) -> StoreResult<lantern_store::Recipient> {
        self.insert_recipient(name, kind, language, users, ctx)
    }
    fn recipients(&self) -> StoreResult<Vec<lantern_store::Recipient>> {
        self.all_recipients()
    }
    fn create_dossier(
        &self,
        draft: &lantern_domain::testimony::DossierDraft,
        ctx: &lantern_store::AuditContext,
    ) -> StoreResult<lantern_store::Dossier> {
        self.insert_dossier(draft, ctx)
    }
    fn dossier(&self, id: lantern_domain::testimony::DossierId) -> StoreResult<Option<lantern_store::Dossier>> {
        self.dossier_by_id(id)
    }
    fn dossiers(
        &self,
        recipients: Option<&[lantern_domain::testimony::RecipientId]>,
    ) -> StoreResult<Vec<lantern_store::Dossier>> {
        self.dossier_list(recipients)
    }
    fn fix_dossier_checkpoint(&self, id: lantern_domain::testimony::DossierId, size: u64) -> StoreResult<u64> {
        self.fix_checkpoint(id, size)
    }
    fn dossier_disclosures(
        &self,
        id: lantern_domain::testimony::DossierId,
        ctx: &lantern_store::AuditContext,
    ) -> StoreResult<Vec<lantern_store::Disclosure>> {
        self.disclosures(id, ctx)
    }
    fn custody(&self, id: lantern_domain::evidence::EvidenceId) -> StoreResult<Vec<lantern_store::CustodyEvent>> {
        self.custody_of(id)
    }
    fn vault_objects(&self) -> StoreResult<Vec<lantern_store::StoredObject>> {
        self.all_objects()
    }
    fn key_usage(&self) -> StoreResult<Vec<lantern_store::KeyUsage>> {
        self.usage()
    }
    fn reseal(&self) -> StoreResult<u64> {
        self.reseal_all()
    }
    fn add_message(
        &self,
        request: lantern_domain::tracing::RequestId,
        direction: lantern_domain::tracing::MessageDirection,
        text: &str,
        ctx: &lantern_store::AuditContext,
    ) -> StoreResult<lantern_store::RequestMessage> {
        self.message(request, direction, text, ctx)
    }
    fn deliver_message(
        &self,
        request: lantern_domain::tracing::RequestId,
        message: lantern_domain::tracing::MessageId,
        ctx: &lantern_store::AuditContext,
    ) -> StoreResult<lantern_store::RequestMessage> {
        self.deliver(request, message, ctx)
    }
    fn read_messages(
        &self,
        request: lantern_domain::tracing::RequestId,
        ctx: &lantern_store::AuditContext,
    ) -> StoreResult<Vec<lantern_store::RequestMessage>> {
        self.messages_of(request, ctx)
    }
    fn create_visit_room(
        &self,
        site: lantern_domain::person::SiteId,
        name: &str,
        capacity: u32,
        hours: &[lantern_domain::interview::Window],
        ctx: &lantern_store::AuditContext,
    ) -> StoreResult<lantern_store::VisitRoom> {
        self.add_visit_room(site, name, capacity, hours, ctx)
    }
    fn visit_rooms(&self) -> StoreResult<Vec<lantern_store::VisitRoom>> {
        self.all_visit_rooms()
    }
    fn book_visit(
        &self,
        visit: &lantern_store::NewVisit,
        ctx: &lantern_store::AuditContext,
    ) -> StoreResult<lantern_store::Visit> {
        self.book_visit_in(visit, ctx)
    }
    fn close_visit(
        &self,
        visit: lantern_domain::tracing::VisitId,
        status: lantern_domain::tracing::VisitStatus,
        outcome_by: Option<String>,
        reason: Option<String>,
        ctx: &lantern_store::AuditContext,
    ) -> StoreResult<lantern_store::Visit> {
        self.close_visit_in(visit, status, outcome_by, reason, ctx)
    }
    fn read_visits(
        &self,
        request: lantern_domain::tracing::RequestId,
        ctx: &lantern_store::AuditContext,
    ) -> StoreResult<Vec<lantern_store::Visit>> {
        self.visits_of(request, ctx)
    }
    fn tracing_figures(&self, now: time::OffsetDateTime) -> StoreResult<lantern_store::TracingFigures> {
        self.figures(now)
    }
    fn searching_requests(
        &self,
    ) -> StoreResult<Vec<(lantern_domain::tracing::RequestId, lantern_store::SoughtPerson)>> {
        self.searching_in()
    }
    fn request_by_reference(
        &self,
        reference: &str,
        secret_hash: &str,
    ) -> StoreResult<Option<lantern_store::TracingRequest>> {
        self.by_reference(reference, secret_hash)
    }
    fn ledger_size(&self) -> StoreResult<u64> {
        self.ledger_len()
    }
    fn ledger_entries(&self, start: u64, end: u64) -> StoreResult<Vec<lantern_store::LedgerEntry>> {
        self.ledger_range(start, end)
    }
    fn ledger_leaf_hashes(&self, end: u64) -> StoreResult<Vec<lantern_ledger::Hash>> {
        self.leaf_hashes(end)
    }
    fn ledger_nodes(
        &self,
        after: Option<(u32, u64)>,
        limit: usize,
    ) -> StoreResult<Vec<(u32, u64, lantern_ledger::Hash)>> {
        self.nodes_after(after, limit)
    }
    fn ledger_root(&self, size: u64) -> StoreResult<lantern_ledger::Hash> {
        self.with_nodes(|n| lantern_ledger::tree::root_of(n, size))
    }
    fn ledger_inclusion_proof(&self, index: u64, size: u64) -> StoreResult<Vec<lantern_ledger::Hash>> {
        self.with_nodes(|n| lantern_ledger::tree::inclusion_proof_of(n, index, size))
    }
    fn ledger_consistency_proof(&self, size1: u64, size2: u64) -> StoreResult<Vec<lantern_ledger::Hash>> {
        self.with_nodes(|n| lantern_ledger::tree::consistency_proof_of(n, size1, size2))
    }
    fn ledger_salts(&self, seq: u64) -> StoreResult<Vec<(String, [u8; 32])>> {
        self.salts_of(seq)
    }
    fn add_checkpoint(&self, checkpoint: &lantern_store::StoredCheckpoint) -> StoreResult<()> {
        self.save_checkpoint(checkpoint)
    }
    fn checkpoints(&self) -> StoreResult<Vec<lantern_store::StoredCheckpoint>> {
        self.load_checkpoints(false)
    }
    fn latest_checkpoint(&self) -> StoreResult<Option<lantern_store::StoredCheckpoint>> {
        Ok(self.load_checkpoints(true)?.pop())
    }
    fn check_records(&self) -> StoreResult<Vec<lantern_store::Discrepancy>> {
        self.compare_records()
    }
    fn record_audit(&self, event: &NewAuditEvent) -> StoreResult<()> {
        self.record(event)
    }
    fn audit_events(&self, filter: &AuditFilter) -> StoreResult<Page<AuditEvent>> {
        self.audit_page(filter)
    }
    fn stats(&self) -> StoreResult<Stats> {
        self.stats_now()
    }
}
