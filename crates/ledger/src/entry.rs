//! Log entries: canonical, versioned, typed, and carrying salted commitments
//! to a record's fields instead of the fields themselves.
//!
//! Publishing entries, tree hashes or checkpoints therefore reveals nothing
//! about the people in the records; later, one field can be disclosed with
//! its salt and anyone can check it against the entry (and the entry against
//! a signed checkpoint) while the other fields stay hidden.
//!
//! Canonical form: JSON with object keys in byte order, no insignificant
//! whitespace, integers only, strings escaped as JSON requires (the subset of
//! RFC 8785, JSON Canonicalization Scheme, that these entries use).

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};

use crate::Hash;

/// Version of the entry format.
pub const ENTRY_VERSION: u32 = 1;

/// Domain separation for commitments, so a commitment can never be
/// confused with a tree hash.
const COMMIT_TAG: &[u8] = b"lantern commitment v1\0";

/// A salted commitment to one field's value: `SHA-256(tag ‖ salt ‖ value)`,
/// where `value` is the field's canonical JSON.
pub fn commit(salt: &[u8; 32], value: &[u8]) -> Hash {
    let mut h = Sha256::new();
    h.update(COMMIT_TAG);
    h.update(salt);
    h.update(value);
    h.finalize().into()
}

/// A log entry.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Entry {
    /// Format version ([`ENTRY_VERSION`]).
    pub v: u32,
    /// What happened: `record.created`, `record.updated`, `record.deleted`,
    /// `audit` (an audit event), and later `evidence.added`, `custody`,
    /// `consent.recorded`, `dossier.exported`.
    #[serde(rename = "type")]
    pub kind: String,
    /// When (RFC 3339, UTC).
    pub at: String,
    /// Kind of record (`person`, `audit` …).
    pub record_kind: String,
    /// The record's id.
    pub record_id: String,
    /// The record's version after the change, when it has versions.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub version: Option<i64>,
    /// Field name → hex of the salted commitment to its value.
    pub fields: BTreeMap<String, String>,
}

impl Entry {
    /// The canonical bytes that are hashed into the tree.
    pub fn canonical(&self) -> Vec<u8> {
        // serde_json writes struct fields in declaration order; going
        // through a Value sorts every object's keys (BTreeMap), giving one
        // byte sequence per entry.
        let value = serde_json::to_value(self).unwrap_or(serde_json::Value::Null);
        serde_json::to_vec(&value).unwrap_or_default()
    }

    /// Parses canonical bytes, refusing anything that is not exactly the
    /// canonical form of what it parses to.
    pub fn parse(bytes: &[u8]) -> Option<Entry> {
        let e: Entry = serde_json::from_slice(bytes).ok()?;
        (e.canonical() == bytes).then_some(e)
    }
}

/// The salts of an entry's commitments, by field.
pub type Salts = Vec<(String, [u8; 32])>;

/// Builds an entry's commitments, remembering the salts so the server can
/// disclose a field later.
#[derive(Debug, Default)]
pub struct Commitments {
    fields: BTreeMap<String, String>,
    salts: Salts,
}

impl Commitments {
    /// No fields yet.
    pub fn new() -> Self {
        Self::default()
    }

    /// Commits to a field's value (any serialisable value; its canonical
    /// JSON is what is committed to) with a fresh random salt.
    pub fn add(&mut self, field: &str, value: &impl Serialize, salt: [u8; 32]) {
        let canonical = canonical_json(value);
        let c = commit(&salt, &canonical);
        self.fields.insert(field.to_string(), hex(&c));
        self.salts.push((field.to_string(), salt));
    }

    /// The commitments (for the entry) and the salts (kept private).
    pub fn finish(self) -> (BTreeMap<String, String>, Salts) {
        (self.fields, self.salts)
    }
}

/// Canonical JSON of a value (keys sorted, compact).
pub fn canonical_json(value: &impl Serialize) -> Vec<u8> {
    let v = serde_json::to_value(value).unwrap_or(serde_json::Value::Null);
    serde_json::to_vec(&v).unwrap_or_default()
}

/// Lower-case hex.
pub fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

/// Checks a disclosed field: does `value` with `salt` give the commitment
/// the entry holds for `field`?
pub fn check_disclosure(entry: &Entry, field: &str, value: &serde_json::Value, salt: &[u8; 32]) -> bool {
    let Some(expected) = entry.fields.get(field) else {
        return false;
    };
    hex(&commit(salt, &canonical_json(value))) == *expected
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn entry() -> (Entry, Salts) {
        let mut c = Commitments::new();
        c.add("names", &json!([{"text": "زهرا", "kind": "primary"}]), [1; 32]);
        c.add("birth_date", &json!("1980"), [2; 32]);
        let (fields, salts) = c.finish();
        (
            Entry {
                v: ENTRY_VERSION,
                kind: "record.created".into(),
                at: "2026-01-01T00:00:00Z".into(),
                record_kind: "person".into(),
                record_id: "p1".into(),
                version: Some(1),
                fields,
            },
            salts,
        )
    }

    #[test]
    fn canonical_form_is_sorted_compact_and_round_trips() {
        let (e, _) = entry();
        let bytes = e.canonical();
        let text = String::from_utf8(bytes.clone()).unwrap();
        assert!(
            text.starts_with("{\"at\":\"2026-01-01T00:00:00Z\",\"fields\":{\"birth_date\":"),
            "{text}"
        );
        assert!(!text.contains(' '));
        assert_eq!(Entry::parse(&bytes), Some(e));
        // The same content with other whitespace or key order is not canonical.
        let spaced = text.replacen(':', ": ", 1);
        assert_eq!(Entry::parse(spaced.as_bytes()), None);
    }

    #[test]
    fn entries_reveal_no_field_values() {
        let (e, _) = entry();
        let text = String::from_utf8(e.canonical()).unwrap();
        assert!(!text.contains("زهرا") && !text.contains("1980"));
    }

    #[test]
    fn a_field_can_be_disclosed_alone() {
        let (e, salts) = entry();
        let salt = salts.iter().find(|(f, _)| f == "birth_date").unwrap().1;
        assert!(check_disclosure(&e, "birth_date", &json!("1980"), &salt));
        assert!(
            !check_disclosure(&e, "birth_date", &json!("1981"), &salt),
            "wrong value"
        );
        assert!(
            !check_disclosure(&e, "birth_date", &json!("1980"), &[9; 32]),
            "wrong salt"
        );
        assert!(!check_disclosure(&e, "names", &json!("1980"), &salt), "wrong field");
    }
}
