//! Evidence records, stored objects and the chain of custody as they cross
//! the store boundary.

use lantern_domain::evidence::{CustodyKind, Derivation, EvidenceId};
use serde::{Deserialize, Serialize};
use time::OffsetDateTime;

/// An object the vault stored, as the catalogue keeps it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StoredObject {
    /// The object's name in the storage.
    pub name: String,
    /// SHA-256 of the content (64 hex digits).
    pub sha256: String,
    /// Bytes of content.
    pub size: u64,
    /// The object's data key, wrapped by the keyring.
    pub wrapped_key: Vec<u8>,
}

/// The protected part of an evidence record (sealed at rest).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct EvidenceDetails {
    /// The file's name as uploaded.
    pub filename: Option<String>,
    /// What it shows, where it comes from.
    pub description: Option<String>,
}

/// An evidence file to record.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NewEvidence {
    /// The stored object.
    pub object: StoredObject,
    /// A short title.
    pub title: String,
    /// The declared media type.
    pub media_type: String,
    /// File name and description.
    pub details: EvidenceDetails,
    /// From whom it was received (for the custody event).
    pub received_from: Option<String>,
    /// How it was received (for the custody event).
    pub received_how: Option<String>,
    /// For a working copy: its original and how it was made.
    pub derived_from: Option<(EvidenceId, Derivation)>,
}

/// An evidence record without its protected details.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Evidence {
    /// Its id.
    pub id: EvidenceId,
    /// Title.
    pub title: String,
    /// Declared media type.
    pub media_type: String,
    /// SHA-256 of the content.
    pub sha256: String,
    /// Bytes of content.
    pub size: u64,
    /// When it was recorded.
    #[serde(with = "time::serde::rfc3339")]
    pub created_at: OffsetDateTime,
    /// Who recorded it.
    pub created_by: String,
    /// For a working copy: its original.
    pub derived_from: Option<EvidenceId>,
    /// For a working copy: how it was made.
    pub derivation: Option<Derivation>,
    /// Working copies made from it.
    pub copies: Vec<EvidenceId>,
    /// Other records of the same content (flagged as duplicates).
    pub same_content: Vec<EvidenceId>,
}

/// What recording an evidence file did.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AddedEvidence {
    /// The new record.
    pub evidence: Evidence,
    /// The same content was already stored: this newly written object is
    /// not needed and should be deleted (the record names the first one).
    pub redundant_object: Option<String>,
}

/// What it takes to open an evidence file.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct EvidenceObject {
    /// The record.
    pub evidence: Evidence,
    /// The stored object that holds the content.
    pub object: StoredObject,
    /// The file name as uploaded.
    pub filename: Option<String>,
}

/// One link of the chain of custody.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct CustodyEvent {
    /// Position in the whole custody log.
    pub seq: u64,
    /// The evidence.
    pub evidence: EvidenceId,
    /// When.
    #[serde(with = "time::serde::rfc3339")]
    pub at: OffsetDateTime,
    /// What happened.
    pub kind: CustodyKind,
    /// Who did it.
    pub actor: String,
    /// From or to whom.
    pub counterpart: Option<String>,
    /// How.
    pub method: Option<String>,
    /// The content's SHA-256 at that moment.
    pub sha256: String,
}
