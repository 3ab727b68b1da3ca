//! Records that cross the store boundary.

use lantern_domain::audit::AuditAction;
use lantern_domain::family::LinkKind;
use lantern_domain::names::PersonName;
use lantern_domain::person::{HouseholdId, PersonCore, PersonId, ResidenceStatus, SiteId};
use lantern_domain::policy::Role;
use lantern_domain::user::{UiLanguage, UserId, Username};
use serde::Serialize;
use time::OffsetDateTime;

/// Who does something, from where, when: written with every audit event.
#[derive(Debug, Clone)]
pub struct AuditContext {
    /// The acting user, if logged in.
    pub actor_id: Option<UserId>,
    /// The actor's login name (or what was typed, for a failed login).
    pub actor_name: String,
    /// The request's id, to join server logs and audit rows.
    pub request_id: String,
    /// The client's address.
    pub address: Option<String>,
    /// When.
    pub at: OffsetDateTime,
}

impl AuditContext {
    /// A context for work done by the system itself (demo loading, CLI).
    pub fn system(name: &str, at: OffsetDateTime) -> Self {
        AuditContext {
            actor_id: None,
            actor_name: name.to_string(),
            request_id: String::new(),
            address: None,
            at,
        }
    }

    /// The audit event of `action` on a record in this context.
    pub fn event(
        &self,
        action: AuditAction,
        record_kind: &str,
        record_id: Option<String>,
        detail: &str,
    ) -> NewAuditEvent {
        NewAuditEvent {
            ctx: self.clone(),
            action,
            record_kind: record_kind.to_string(),
            record_id,
            detail: detail.to_string(),
        }
    }
}

/// An audit event about to be written.
#[derive(Debug, Clone)]
pub struct NewAuditEvent {
    /// Who, from where, when.
    pub ctx: AuditContext,
    /// What.
    pub action: AuditAction,
    /// Kind of record (`person`, `user`, `session`, a route for denials …).
    pub record_kind: String,
    /// The record's id, if any.
    pub record_id: Option<String>,
    /// Short free text (changed field names, the permission denied …). Never
    /// the content of protected fields.
    pub detail: String,
}

/// A stored audit event.
#[derive(Debug, Clone, Serialize)]
pub struct AuditEvent {
    /// Sequence number (increasing).
    pub seq: i64,
    /// When.
    #[serde(with = "time::serde::rfc3339")]
    pub at: OffsetDateTime,
    /// Acting user's id.
    pub actor_id: Option<UserId>,
    /// Acting user's login name.
    pub actor_name: String,
    /// Action code.
    pub action: String,
    /// Kind of record.
    pub record_kind: String,
    /// Record id.
    pub record_id: Option<String>,
    /// Request id.
    pub request_id: String,
    /// Client address.
    pub address: Option<String>,
    /// Detail.
    pub detail: String,
}

/// Filters for the audit trail.
#[derive(Debug, Clone, Default)]
pub struct AuditFilter {
    /// Only this actor (login name).
    pub actor: Option<String>,
    /// Only this action code.
    pub action: Option<String>,
    /// Only this record id.
    pub record_id: Option<String>,
    /// From (inclusive).
    pub from: Option<OffsetDateTime>,
    /// Until (exclusive).
    pub until: Option<OffsetDateTime>,
    /// Only events up to this sequence number, so paging through a long
    /// export is not shifted by events written meanwhile.
    pub max_seq: Option<i64>,
    /// Which page.
    pub page: PageRequest,
}

/// A user.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct User {
    /// Id.
    pub id: UserId,
    /// Login name.
    pub username: Username,
    /// Name shown in the interface.
    pub display_name: String,
    /// Role.
    pub role: Role,
    /// Interface language.
    pub language: UiLanguage,
    /// A disabled user cannot log in, and their sessions and tokens stop working.
    pub disabled: bool,
    /// True when a TOTP second factor is set up.
    pub totp_enabled: bool,
    /// True until the user replaces a password someone else chose.
    pub must_change_password: bool,
}

/// A new user.
#[derive(Debug, Clone)]
pub struct NewUser {
    /// Login name.
    pub username: Username,
    /// Display name.
    pub display_name: String,
    /// Role.
    pub role: Role,
    /// Interface language.
    pub language: UiLanguage,
    /// argon2id PHC string.
    pub password_hash: String,
    /// The password was chosen by someone else: the user must replace it
    /// before doing anything else.
    pub must_change_password: bool,
}

/// A change to a user; `None` leaves a field as it is.
#[derive(Debug, Clone, Default)]
pub struct UserChange {
    /// New role.
    pub role: Option<Role>,
    /// Enable or disable.
    pub disabled: Option<bool>,
    /// New password hash.
    pub password_hash: Option<String>,
    /// Require (or stop requiring) a password change at next use.
    pub must_change_password: Option<bool>,
    /// New language.
    pub language: Option<UiLanguage>,
    /// Set (`Some(Some)`) or remove (`Some(None)`) the TOTP secret.
    pub totp_secret: Option<Option<Vec<u8>>>,
    /// The audit action to record (user.update by an administrator,
    /// account.update by the user).
    pub action: Option<AuditAction>,
}

/// A user with what is needed to check a login.
#[derive(Debug, Clone)]
pub struct UserCredentials {
    /// The user.
    pub user: User,
    /// argon2id PHC string.
    pub password_hash: String,
    /// TOTP secret, if set up.
    pub totp_secret: Option<Vec<u8>>,
}

/// A new session.
#[derive(Debug, Clone)]
pub struct NewSession {
    /// SHA-256 of the cookie value, hex; the cookie itself is never stored.
    pub id_hash: String,
    /// Owner.
    pub user_id: UserId,
    /// The CSRF token forms of this session must carry.
    pub csrf_token: String,
    /// Start.
    pub created_at: OffsetDateTime,
}

/// A stored session.
#[derive(Debug, Clone)]
pub struct SessionRecord {
    /// SHA-256 of the cookie value, hex.
    pub id_hash: String,
    /// CSRF token.
    pub csrf_token: String,
    /// Start (absolute expiry is counted from here).
    pub created_at: OffsetDateTime,
    /// Last use (idle expiry is counted from here).
    pub last_seen_at: OffsetDateTime,
}

/// A new API token.
#[derive(Debug, Clone)]
pub struct NewApiToken {
    /// Owner.
    pub user_id: UserId,
    /// A label chosen by the user.
    pub name: String,
    /// SHA-256 of the secret, hex.
    pub token_hash: String,
    /// When.
    pub created_at: OffsetDateTime,
}

/// An API token's public facts.
#[derive(Debug, Clone, Serialize)]
pub struct ApiToken {
    /// Id.
    pub id: uuid::Uuid,
    /// Label.
    pub name: String,
    /// Created.
    #[serde(with = "time::serde::rfc3339")]
    pub created_at: OffsetDateTime,
    /// Last used.
    #[serde(with = "time::serde::rfc3339::option")]
    pub last_used_at: Option<OffsetDateTime>,
    /// Revoked.
    pub revoked: bool,
}

/// A site.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Site {
    /// Id.
    pub id: SiteId,
    /// Name.
    pub name: String,
}

/// A household.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Household {
    /// Id.
    pub id: HouseholdId,
    /// Label (usually the family name and a number).
    pub label: String,
    /// Site.
    pub site_id: Option<SiteId>,
    /// Members not deleted.
    pub member_count: i64,
}

/// A page request: 1-based page number and size.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct PageRequest {
    /// 1-based page number.
    pub page: u32,
    /// Rows per page (1 to [`PageRequest::MAX_SIZE`]).
    pub size: u32,
}

impl PageRequest {
    /// Largest page size.
    pub const MAX_SIZE: u32 = 200;

    /// A page request, clamped to sane bounds.
    pub fn new(page: u32, size: u32) -> Self {
        PageRequest {
            page: page.max(1),
            size: size.clamp(1, Self::MAX_SIZE),
        }
    }

    /// Rows to skip.
    pub fn offset(&self) -> u64 {
        u64::from(self.page - 1) * u64::from(self.size)
    }
}

impl Default for PageRequest {
    fn default() -> Self {
        PageRequest::new(1, 50)
    }
}

/// One page of results.
#[derive(Debug, Clone, Serialize)]
pub struct Page<T> {
    /// The rows.
    pub items: Vec<T>,
    /// 1-based page number.
    pub page: u32,
    /// Page size.
    pub size: u32,
    /// Rows in all pages, or a lower bound when `total_is_lower_bound`.
    pub total: u64,
    /// True when counting stopped at `total` (searches count up to a cap:
    /// nobody pages through thousands of matches, and counting them all
    /// would cost every request).
    #[serde(default)]
    pub total_is_lower_bound: bool,
}

impl<T> Page<T> {
    /// Number of pages.
    pub fn pages(&self) -> u32 {
        (self.total.div_ceil(u64::from(self.size.max(1)))).max(1) as u32
    }
}

/// A stored person: unprotected content, version, family links.
#[derive(Debug, Clone, Serialize)]
pub struct Person {
    /// Id.
    pub id: PersonId,
    /// Version, starting at 1, increased by every change.
    pub version: i64,
    /// Content.
    pub core: PersonCore,
    /// True when documents, contact or notes are recorded (their content
    /// needs a separate, audited read).
    pub has_protected: bool,
    /// True when a photo is stored.
    pub has_photo: bool,
    /// Family links, each with the relative's primary name.
    pub links: Vec<LinkView>,
    /// Registered.
    #[serde(with = "time::serde::rfc3339")]
    pub created_at: OffsetDateTime,
    /// Last changed.
    #[serde(with = "time::serde::rfc3339")]
    pub updated_at: OffsetDateTime,
}

/// A family link as shown on a person's page.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct LinkView {
    /// What the relative is to the person.
    pub kind: LinkKind,
    /// The relative.
    pub relative: PersonId,
    /// The relative's primary name.
    pub relative_name: String,
}

/// A person in a list.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct PersonSummary {
    /// Id.
    pub id: PersonId,
    /// Primary name.
    pub primary_name: PersonName,
    /// Other names, for showing why a search matched.
    pub other_names: Vec<String>,
    /// Sex.
    pub sex: lantern_domain::person::Sex,
    /// Birth date as text (`YYYY`, `YYYY-MM` …), if known.
    pub birth_date: Option<String>,
    /// Status.
    pub status: ResidenceStatus,
    /// Site name.
    pub site: Option<String>,
    /// Block.
    pub block: Option<String>,
}

/// A people search.
#[derive(Debug, Clone, Default)]
pub struct PersonQuery {
    /// Name text in any script: every word must start some word of one of
    /// the person's names (after normalisation).
    pub name: Option<String>,
    /// Status.
    pub status: Option<ResidenceStatus>,
    /// Site.
    pub site: Option<SiteId>,
    /// Birth year (matches dates whose year range contains it).
    pub birth_year: Option<i32>,
    /// Which page.
    pub page: PageRequest,
}

/// One version of a person, for the history view.
#[derive(Debug, Clone, Serialize)]
pub struct PersonVersion {
    /// Version number.
    pub version: i64,
    /// When.
    #[serde(with = "time::serde::rfc3339")]
    pub at: OffsetDateTime,
    /// Who (login name).
    pub actor_name: String,
    /// `person.create`, `person.update` or `person.delete`.
    pub action: String,
    /// The unprotected content after the change.
    pub core: PersonCore,
    /// True when the protected fields changed in this version (their
    /// content is not kept in the history).
    pub protected_changed: bool,
}

/// Figures for the dashboard.
#[derive(Debug, Clone, Default, Serialize)]
pub struct Stats {
    /// People not deleted.
    pub people: u64,
    /// Households.
    pub households: u64,
    /// People by status code.
    pub by_status: Vec<(String, u64)>,
    /// People by site name (`None`: no site).
    pub by_site: Vec<(Option<String>, u64)>,
}

/// One stored log entry.
#[derive(Debug, Clone)]
pub struct LedgerEntry {
    /// Its index in the log, from 0.
    pub seq: u64,
    /// Canonical entry bytes.
    pub entry: Vec<u8>,
    /// The leaf hash stored with it.
    pub leaf_hash: lantern_ledger::Hash,
}

/// A signed checkpoint as stored.
#[derive(Debug, Clone)]
pub struct StoredCheckpoint {
    /// Tree size.
    pub size: u64,
    /// Root hash at that size.
    pub root: lantern_ledger::Hash,
    /// The signed note.
    pub note: String,
    /// When it was signed.
    pub at: OffsetDateTime,
}

/// The latest log entry of a record.
#[derive(Debug, Clone)]
pub struct RecordHead {
    /// The record's id.
    pub record_id: String,
    /// Index of its latest entry.
    pub seq: u64,
}

/// A record that does not match its latest log entry.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Discrepancy {
    /// Kind of record (`person`, `audit`).
    pub record_kind: String,
    /// The record's id.
    pub record_id: String,
    /// What differs, in words (`field birth_date changed`, `no log entry` …).
    pub what: String,
}

/// How many values of a table one master-key generation seals.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct KeyUsage {
    /// The table.
    pub table: String,
    /// The generation (0: a value that names none, i.e. malformed).
    pub generation: u32,
    /// How many values.
    pub values: u64,
}
