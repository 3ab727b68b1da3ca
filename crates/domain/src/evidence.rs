//! Evidence files and their chain of custody.
//!
//! An evidence record names one stored object (the vault keeps its content
//! encrypted and identifies it by SHA-256). Originals are never changed
//! (Berkeley Protocol on Digital Open Source Investigations, 2020: keep an
//! untouched evidentiary copy); thumbnails, transcodes, redacted versions and
//! translations are working copies, separate records linked to the original.
//! Every receipt, transfer, access, derivation and export is a custody event.

use crate::error::{FieldError, Reason};
use crate::person::{code_enum, id_type};
use crate::text::{optional_text, required_text};

id_type!(
    /// Identifies an evidence record.
    EvidenceId
);

code_enum!(
    /// What happened to an evidence file.
    CustodyKind {
        /// Lantern received the file (from whom, how).
        Received = "received",
        /// Someone opened or downloaded it.
        Accessed = "accessed",
        /// It was handed on, or its physical original moved (to whom, how).
        Transferred = "transferred",
        /// A working copy was made from it.
        Derived = "derived",
        /// It went out in a dossier or export.
        Exported = "exported",
    }
);

code_enum!(
    /// How a working copy relates to its original.
    Derivation {
        /// A small preview image.
        Thumbnail = "thumbnail",
        /// The same content in another format.
        Transcode = "transcode",
        /// Parts hidden (faces, names, places).
        Redacted = "redacted",
        /// A translation or transcript.
        Translation = "translation",
        /// Anything else, described in the record.
        Other = "other",
    }
);

/// Longest title of an evidence record.
pub const MAX_TITLE: usize = 200;
/// Longest description.
pub const MAX_DESCRIPTION: usize = 5_000;
/// Longest file name, "from whom" or "how".
pub const MAX_SHORT: usize = 300;

/// A title (required).
pub fn title(field: &str, raw: &str) -> Result<String, FieldError> {
    required_text(field, raw, MAX_TITLE)
}

/// A description (optional, line breaks kept).
pub fn description(field: &str, raw: &str) -> Result<Option<String>, FieldError> {
    optional_text(field, raw, MAX_DESCRIPTION, true)
}

/// A short optional text: "from whom", "how", a file name.
pub fn short_text(field: &str, raw: &str) -> Result<Option<String>, FieldError> {
    optional_text(field, raw, MAX_SHORT, false)
}

/// A media type as a sender declared it (`type/subtype`, parameters
/// dropped); anything unrecognisable becomes `application/octet-stream`,
/// so a download is never rendered by the browser as something else.
pub fn media_type(raw: &str) -> String {
    let essence = raw.split(';').next().unwrap_or_default().trim().to_ascii_lowercase();
    let valid = |part: &str| {
        !part.is_empty()
            && part.len() <= 100
            && part
                .chars()
                .all(|c| c.is_ascii_alphanumeric() || "!#$&-^_.+".contains(c))
    };
    match essence.split_once('/') {
        Some((t, s)) if valid(t) && valid(s) => essence,
        _ => "application/octet-stream".to_string(),
    }
}

/// A SHA-256 as 64 lowercase hex digits.
pub fn sha256_hex(field: &str, raw: &str) -> Result<String, FieldError> {
    let t = raw.trim().to_ascii_lowercase();
    if t.len() == 64 && t.chars().all(|c| c.is_ascii_hexdigit()) {
        Ok(t)
    } else {
        Err(FieldError::new(field, Reason::InvalidFormat))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn media_types_are_reduced_to_their_essence_or_refused() {
        assert_eq!(media_type("image/JPEG; charset=x"), "image/jpeg");
        assert_eq!(media_type("application/pdf"), "application/pdf");
        for bad in ["", "text", "text/", "<script>/x", "a/b c", "/pdf"] {
            assert_eq!(media_type(bad), "application/octet-stream", "{bad}");
        }
    }

    #[test]
    fn texts_and_hashes_are_checked() {
        assert_eq!(title("title", "  Photo of the gate ").unwrap(), "Photo of the gate");
        assert_eq!(title("title", " ").unwrap_err().reason, Reason::Required);
        assert!(matches!(
            title("title", &"x".repeat(MAX_TITLE + 1)).unwrap_err().reason,
            Reason::TooLong { .. }
        ));
        assert_eq!(description("d", "a\nb").unwrap().as_deref(), Some("a\nb"));
        assert!(short_text("from", "a\nb").is_err());
        let h = "AB".repeat(32);
        assert_eq!(sha256_hex("sha256", &h).unwrap(), "ab".repeat(32));
        assert!(sha256_hex("sha256", "abc").is_err());
        assert!(sha256_hex("sha256", &"g".repeat(64)).is_err());
    }
}
