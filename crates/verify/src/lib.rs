//! Offline verification of what Lantern hands to outsiders: single proof
//! files (C2SP `tlog-proof`) and dossier bundles
//! ([`lantern_ledger::bundle`]).
//!
//! Nothing here opens a network connection, a database or a server: the
//! reader needs only the file (and, ideally, the organisation's published
//! verifier key). The reports are written for readers without technical
//! background: what was checked, what is withheld, and what they still have
//! to compare by themselves (the key).

use std::fmt::Write as _;
use std::path::Path;

use base64::engine::general_purpose::STANDARD as B64;
use base64::Engine;
use lantern_ledger::bundle::{self, DirSource, Report, ZipSource};
use lantern_ledger::note::NoteVerifier;
use lantern_ledger::proof::{ProofFileError, TlogProof};
use serde_json::Value;

/// What a path holds.
enum Kind {
    /// A dossier bundle (ZIP) or a folder it was unpacked into.
    Bundle,
    /// A single proof file.
    Proof,
}

fn kind(path: &Path) -> Result<Kind, String> {
    if path.is_dir() {
        return Ok(Kind::Bundle);
    }
    let mut head = [0u8; 4];
    let mut f = std::fs::File::open(path).map_err(|e| format!("{}: {e}", path.display()))?;
    let n = std::io::Read::read(&mut f, &mut head).map_err(|e| format!("{}: {e}", path.display()))?;
    if n == 4 && head == *b"PK\x03\x04" {
        Ok(Kind::Bundle)
    } else {
        Ok(Kind::Proof)
    }
}

/// Reads a key given as text or as the path of a file holding it.
fn key_text(key: &str) -> Result<String, String> {
    if Path::new(key).is_file() {
        std::fs::read_to_string(key).map_err(|e| format!("{key}: {e}"))
    } else {
        Ok(key.to_string())
    }
}

/// Verifies a dossier bundle or a proof file and returns whether it is
/// valid and the report. `key` (text or file) is required for a proof
/// file; for a bundle it pins the key the reader expects. `today` decides
/// whether a dossier has expired. Errors are for files that cannot be read
/// at all.
pub fn verify_path(path: &Path, key: Option<&str>, today: time::Date) -> Result<(bool, String), String> {
    let key = key.map(key_text).transpose()?;
    match kind(path)? {
        Kind::Bundle => {
            let pinned = match key.as_deref().map(NoteVerifier::parse).transpose() {
                Ok(k) => k,
                Err(e) => {
                    return Ok((
                        false,
                        format!("✗ The key you gave is not usable: {e}.\nResult: NOT VALID\n"),
                    ))
                }
            };
            let report = if path.is_dir() {
                bundle::verify(&mut DirSource(path.to_path_buf()), pinned.as_ref())
            } else {
                let file = std::fs::File::open(path).map_err(|e| format!("{}: {e}", path.display()))?;
                match ZipSource::new(std::io::BufReader::new(file)) {
                    Ok(mut source) => bundle::verify(&mut source, pinned.as_ref()),
                    Err(e) => {
                        return Ok((
                            false,
                            format!(
                                "✗ {} is not a readable ZIP file: {e}.\nResult: NOT VALID\n",
                                path.display()
                            ),
                        ))
                    }
                }
            };
            Ok((report.ok(), render_bundle(path, &report, pinned.is_some(), today)))
        }
        Kind::Proof => {
            let Some(key) = key else {
                return Err("a proof file is checked against the log's key: pass it with --key".into());
            };
            verify_proof(path, &key)
        }
    }
}

/// Today's date in UTC.
pub fn today() -> time::Date {
    time::OffsetDateTime::now_utc().date()
}

fn text(v: &Value) -> String {
    match v {
        Value::String(s) => s.clone(),
        Value::Null => "(empty)".into(),
        Value::Array(items) => items.iter().map(text).collect::<Vec<_>>().join(", "),
        other => other.to_string(),
    }
}

/// A value short enough to print on one line, or its length.
fn short(v: &Value) -> String {
    let t = text(v).replace('\n', " ");
    if t.chars().count() > 80 {
        format!(
            "{}… ({} characters)",
            t.chars().take(77).collect::<String>(),
            t.chars().count()
        )
    } else {
        t
    }
}

fn size(bytes: u64) -> String {
    match bytes {
        b if b >= 1 << 30 => format!("{:.1} GiB", b as f64 / (1u64 << 30) as f64),
        b if b >= 1 << 20 => format!("{:.1} MiB", b as f64 / (1u64 << 20) as f64),
        b if b >= 1 << 10 => format!("{:.1} KiB", b as f64 / 1024.0),
        b => format!("{b} bytes"),
    }
}

/// The report of a bundle, in plain words.
pub fn render_bundle(path: &Path, r: &Report, pinned: bool, today: time::Date) -> String {
    let mut out = String::new();
    let field = |name: &str| r.dossier.get(name).map(text).unwrap_or_else(|| "(not verified)".into());
    let _ = writeln!(out, "Lantern dossier: {}", path.display());
    if r.dossier_entry.is_some() {
        let _ = writeln!(out, "Title:       {}", field("title"));
        let _ = writeln!(out, "For:         {}", field("recipient"));
        let _ = writeln!(out, "Purpose:     {}", field("purpose"));
        let _ = writeln!(out, "Prepared by: {} on {}", field("created_by"), field("created_at"));
        if let Some(expires) = r.expires() {
            let expired = time::Date::parse(expires, time::macros::format_description!("[year]-[month]-[day]"))
                .map(|d| d < today)
                .unwrap_or(false);
            let _ = writeln!(
                out,
                "Shared until: {expires}{}",
                if expired {
                    " (EXPIRED: the sender's permission to use it has ended)"
                } else {
                    ""
                }
            );
        }
        let _ = writeln!(out, "Withheld by the sender: {}", field("redaction"));
    }
    out.push_str("\nLog and key\n");
    if let Some(key) = &r.key {
        if pinned {
            let _ = writeln!(out, "  ✓ The bundle's key is the one you expected: {key}");
        } else {
            let _ = writeln!(
                out,
                "  • Key: {key}\n    Compare it with the key the sending organisation published, or run again with --key KEY."
            );
        }
    }
    if let Some(c) = &r.checkpoint {
        let _ = writeln!(
            out,
            "  ✓ The checkpoint is signed by this key: log `{}` holding {} entries (root {}).",
            c.origin,
            c.size,
            B64.encode(c.root)
        );
    }
    for size in &r.extends {
        let _ = writeln!(
            out,
            "  ✓ This log extends the checkpoint of {size} entries given to you earlier: nothing recorded then was changed."
        );
    }
    if let Some(d) = &r.dossier_entry {
        let _ = writeln!(
            out,
            "  ✓ The dossier itself ({}) is entry of the log recorded {}; its recipient, purpose, expiry and lists of records and files match it.",
            d.record_id, d.at
        );
    }
    let _ = writeln!(out, "\nRecords ({})", r.records.len());
    for (i, rec) in r.records.iter().enumerate() {
        let e = &rec.entry;
        let _ = writeln!(
            out,
            "  {}. {} {}{} ({}, {}): entry {} of the log ✓",
            i + 1,
            e.record_kind,
            e.record_id,
            e.version.map(|v| format!(" version {v}")).unwrap_or_default(),
            e.kind,
            e.at,
            rec.index
        );
        for (name, value) in &rec.shown {
            let _ = writeln!(out, "     ✓ {name}: {}", short(value));
        }
        if !rec.redacted.is_empty() {
            let _ = writeln!(out, "     withheld (redacted): {}", rec.redacted.join(", "));
        }
    }
    let _ = writeln!(out, "\nFiles ({})", r.files.len());
    for f in &r.files {
        if f.included {
            let _ = writeln!(
                out,
                "  ✓ files/{} ({}): its content has the SHA-256 recorded in the log",
                f.sha256,
                size(f.size)
            );
        } else {
            let _ = writeln!(
                out,
                "  • {} ({}): not included, hash only; check a copy with `sha256sum`",
                f.sha256,
                size(f.size)
            );
        }
    }
    if r.ok() {
        out.push_str(
            "\nResult: VALID. Every record and file shown is what was recorded in the log, \
             and the withheld fields are listed above.\n",
        );
    } else {
        let _ = writeln!(out, "\nProblems ({})", r.problems.len());
        for p in &r.problems {
            let _ = writeln!(out, "  ✗ {p}");
        }
        out.push_str("\nResult: NOT VALID. Do not rely on this dossier; ask the sender for a new copy.\n");
    }
    out
}

/// Verifies a proof file offline and writes a report a reader without
/// technical background can follow. Returns whether it is valid.
pub fn verify_proof(path: &Path, key_text: &str) -> Result<(bool, String), String> {
    let mut out = format!("Proof file: {}\n", path.display());
    let verifier = match NoteVerifier::parse(key_text) {
        Ok(v) => v,
        Err(e) => {
            out.push_str(&format!("✗ The verifier key is not usable: {e}.\nResult: NOT VALID\n"));
            return Ok((false, out));
        }
    };
    out.push_str(&format!("Log key: {}\n", bundle::key_label(&verifier)));
    let text = std::fs::read_to_string(path).map_err(|e| format!("reading {}: {e}", path.display()))?;
    let proof = match TlogProof::parse(&text) {
        Ok(p) => p,
        Err(e) => {
            out.push_str(&format!("✗ {e}.\nResult: NOT VALID\n"));
            return Ok((false, out));
        }
    };
    match proof.verify(&verifier) {
        Ok((cp, entry)) => {
            out.push_str(&format!(
                "✓ The checkpoint is signed by the log's key.\n\
                 ✓ The checkpoint describes the log when it held {} entries (root {}).\n\
                 ✓ Entry {} is included in that log ({} hashes checked).\n\
                 Entry {}: {} of {} {}, recorded {}{}.\n\
                 Committed fields (values not disclosed): {}.\n\
                 Result: VALID\n",
                cp.size,
                B64.encode(cp.root),
                proof.index,
                proof.hashes.len(),
                proof.index,
                entry.kind,
                entry.record_kind,
                entry.record_id,
                entry.at,
                entry.version.map(|v| format!(" (version {v})")).unwrap_or_default(),
                entry.fields.keys().cloned().collect::<Vec<_>>().join(", "),
            ));
            Ok((true, out))
        }
        Err(e) => {
            let step = match &e {
                ProofFileError::Checkpoint(_) => "The checkpoint's signature or form",
                ProofFileError::Inclusion(_) => "The entry's inclusion in the checkpointed log",
                ProofFileError::Entry => "The entry",
                ProofFileError::Format(_) => "The file",
            };
            out.push_str(&format!("✗ {step}: {e}.\nResult: NOT VALID\n"));
            Ok((false, out))
        }
    }
}

/// The command line of the stand-alone binary and of `lantern verify`:
/// exit status 0 when valid, 1 when not, 2 when the file cannot be read.
pub fn main_with(path: &Path, key: Option<&str>) -> i32 {
    match verify_path(path, key, today()) {
        Ok((ok, report)) => {
            print!("{report}");
            if ok {
                0
            } else {
                1
            }
        }
        Err(e) => {
            eprintln!("lantern-verify: {e}");
            2
        }
    }
}
