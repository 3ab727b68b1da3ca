//! Testimonies, events, recipients and dossiers as they cross the store
//! boundary.

use std::collections::BTreeMap;

use lantern_domain::date::FuzzyDate;
use lantern_domain::evidence::EvidenceId;
use lantern_domain::testimony::{
    Act, ConfidentialPart, DossierId, EventId, RecipientId, RecipientKind, Redaction, Reliability, ShareDecision,
    Source, TestimonyId, Witness,
};
use lantern_domain::user::UserId;
use serde::Serialize;
use time::{Date, OffsetDateTime};

/// An act type of the vocabulary, with its labels by language.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct ActType {
    /// Stable code.
    pub code: String,
    /// Label by language tag; built-in types are labelled by the
    /// interface's translations and have none here.
    pub labels: BTreeMap<String, String>,
    /// One of the types every installation knows.
    pub built_in: bool,
}

/// A recorded event.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Event {
    /// Its id.
    pub id: EventId,
    /// Title.
    pub title: String,
    /// Start, as precisely as known.
    pub start: Option<FuzzyDate>,
    /// End.
    pub end: Option<FuzzyDate>,
    /// General area.
    pub place: Option<String>,
    /// Exact place (sealed at rest; withheld by the "exact places" redaction).
    pub exact_place: Option<String>,
    /// Description.
    pub description: Option<String>,
    /// When recorded.
    #[serde(with = "time::serde::rfc3339")]
    pub created_at: OffsetDateTime,
    /// Who recorded it.
    pub created_by: String,
    /// Testimonies that speak to it.
    pub testimonies: Vec<TestimonyId>,
}

/// What anyone who may read testimonies sees of one: no witness identity,
/// no narrative, no names.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct TestimonySummary {
    /// Its id.
    pub id: TestimonyId,
    /// The pseudonym.
    pub pseudonym: String,
    /// When it was given.
    #[serde(with = "lantern_domain::date::iso")]
    pub given_on: Date,
    /// Language.
    pub language: String,
    /// The documenter's assessment.
    pub reliability: Reliability,
    /// Events it speaks to.
    pub events: Vec<EventId>,
    /// Act types told of, with their event.
    pub acts: Vec<(EventId, String)>,
    /// Evidence it cites.
    pub evidence: Vec<EvidenceId>,
    /// Parts marked confidential.
    pub confidential: Vec<ConfidentialPart>,
    /// When recorded.
    #[serde(with = "time::serde::rfc3339")]
    pub created_at: OffsetDateTime,
    /// Who recorded it.
    pub created_by: String,
}

/// A testimony read in full (its reading is audited). Parts the reader may
/// not see are `None`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct TestimonyFull {
    /// The public part.
    pub summary: TestimonySummary,
    /// The witness, for those who may see it.
    pub witness: Option<Witness>,
    /// The narrative, unless confidential and not allowed.
    pub narrative: Option<String>,
    /// Acts with names, unless confidential and not allowed (names are
    /// then empty).
    pub acts: Vec<Act>,
    /// Sources, unless confidential and not allowed.
    pub sources: Option<Vec<Source>>,
    /// Why the reliability assessment.
    pub reliability_note: Option<String>,
}

/// A witness's decision about sharing, as recorded.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct ShareRecord {
    /// The recipient.
    pub recipient: RecipientId,
    /// The decision.
    pub decision: ShareDecision,
    /// How it was given: "verbal, witnessed by …", or a signed form.
    pub how: String,
    /// The signed form in the vault, if any.
    pub form: Option<EvidenceId>,
    /// When.
    #[serde(with = "time::serde::rfc3339")]
    pub at: OffsetDateTime,
    /// Recorded by.
    pub by: String,
}

/// A decision to record.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NewShareDecision {
    /// The recipient.
    pub recipient: RecipientId,
    /// The decision.
    pub decision: ShareDecision,
    /// How it was given.
    pub how: String,
    /// The signed form, if any.
    pub form: Option<EvidenceId>,
}

/// A named recipient of dossiers.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Recipient {
    /// Its id.
    pub id: RecipientId,
    /// Name ("Committee on …", "Special Rapporteur on …").
    pub name: String,
    /// Kind.
    pub kind: RecipientKind,
    /// The language dossiers' summaries are written in.
    pub language: String,
    /// External-official accounts that receive its dossiers.
    pub users: Vec<UserId>,
}

/// A record a dossier includes, with its log entry.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, serde::Deserialize)]
pub struct DossierRecord {
    /// Kind of record (`testimony`, `event`, `evidence`, `custody`).
    pub kind: String,
    /// Its id.
    pub id: String,
    /// Index of the entry.
    pub index: u64,
    /// The entry's leaf hash, hex.
    pub leaf: String,
}

/// A built dossier.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Dossier {
    /// Its id.
    pub id: DossierId,
    /// Title.
    pub title: String,
    /// Recipient.
    pub recipient: Recipient,
    /// Purpose.
    pub purpose: String,
    /// Last day it may be seen.
    #[serde(with = "lantern_domain::date::iso")]
    pub expires: Date,
    /// What is withheld.
    pub redaction: Vec<Redaction>,
    /// Whether files go in the bundle.
    pub include_files: bool,
    /// Testimonies selected.
    pub testimonies: Vec<TestimonyId>,
    /// The records, in order.
    pub records: Vec<DossierRecord>,
    /// Files (SHA-256, size).
    pub files: Vec<(String, u64)>,
    /// Index of the dossier's own entry.
    pub entry: u64,
    /// The checkpoint size its bundle proves against, once exported.
    pub checkpoint_size: Option<u64>,
    /// When built.
    #[serde(with = "time::serde::rfc3339")]
    pub created_at: OffsetDateTime,
    /// Who built it.
    pub created_by: String,
}

/// A testimony recorded together with the new event it speaks to and the
/// file its witness brought (see [`crate::Store::record_testimony`]).
#[derive(Debug, Clone)]
pub struct RecordedTestimony {
    /// The testimony.
    pub testimony: TestimonySummary,
    /// The draft as stored (the new event's id in place, the new evidence
    /// among its evidence).
    pub draft: lantern_domain::testimony::TestimonyDraft,
    /// The event created with it.
    pub event: Option<Event>,
    /// The evidence created with it.
    pub evidence: Option<crate::AddedEvidence>,
}

/// One entry of a dossier with what is needed to disclose it.
#[derive(Debug, Clone, PartialEq)]
pub struct Disclosure {
    /// Index of the entry.
    pub index: u64,
    /// The entry's canonical bytes.
    pub entry: Vec<u8>,
    /// Kind of record.
    pub record_kind: String,
    /// Every committed field's value and salt, except those in `unread`.
    pub fields: BTreeMap<String, (serde_json::Value, [u8; 32])>,
    /// Committed fields the store withholds without opening them (a
    /// person's protected fields): always shown as redacted.
    pub unread: Vec<String>,
}

impl TestimonyFull {
    /// A draft just recorded, with the summary the store returned, as the
    /// whole testimony (every part open): what its recorder already holds.
    pub fn recorded(draft: lantern_domain::testimony::TestimonyDraft, summary: TestimonySummary) -> TestimonyFull {
        TestimonyFull {
            summary,
            witness: Some(draft.witness),
            narrative: Some(draft.narrative),
            acts: draft.acts,
            sources: Some(draft.sources),
            reliability_note: draft.reliability_note,
        }
    }
}
