//! Dossier bundles: one ZIP file an official can check offline, without
//! trusting the sender, the server, or this program's author.
//!
//! ```text
//! dossier.json              the manifest (below)
//! checkpoint.txt            the signed checkpoint every proof leads to
//! key.txt                   the log's verifier key (name+keyid+base64)
//! proofs/<index>.tlog-proof one C2SP tlog-proof per entry (the dossier's own
//!                           entry and each record's), entry in the extra line
//! files/<sha256>            evidence files, when included (else hashes only)
//! summary.html, summary.pdf, README.txt  for people; not part of what is verified
//! ```
//!
//! The manifest discloses, for each entry, some of its fields with the salt
//! of each commitment (see [`crate::entry`]); the other fields are listed as
//! redacted and stay hidden. The dossier itself is an entry of the log
//! (`dossier.exported`) whose fields commit to the recipient, purpose,
//! expiry, redaction profile, the ordered list of record entries (index and
//! leaf hash) and the list of files (SHA-256 and size). Dropping, adding or
//! reordering a record, swapping a file, or changing the expiry therefore
//! changes something the signed checkpoint covers.
//!
//! What the bundle cannot prove by itself is *whose* key signed it: a
//! forger can sign a whole new log with their own key. The report names the
//! key so the reader can compare it with the one the organisation
//! published, and [`verify`] accepts a pinned key; consistency proofs to
//! checkpoints the recipient received earlier bind the new checkpoint to
//! the same log.

use std::collections::{BTreeMap, BTreeSet};
use std::io::{Read, Seek, Write};
use std::path::{Component, Path, PathBuf};

use base64::engine::general_purpose::STANDARD as B64;
use base64::Engine;
use serde::{Deserialize, Serialize};
use serde_json::Value;
use sha2::{Digest, Sha256};

use crate::entry::{canonical_json, commit, hex, Entry};
use crate::note::{Checkpoint, NoteVerifier};
use crate::proof::TlogProof;
use crate::{leaf_hash, verify_consistency, Hash};

/// The manifest's format name.
pub const FORMAT: &str = "lantern-dossier/1";
/// The manifest's path in the bundle.
pub const MANIFEST: &str = "dossier.json";
/// The signed checkpoint's path.
pub const CHECKPOINT: &str = "checkpoint.txt";
/// The verifier key's path.
pub const KEY: &str = "key.txt";
/// The entry kind of a dossier's own entry.
pub const DOSSIER_ENTRY: &str = "dossier.exported";
/// The fields a dossier entry commits to; all of them are disclosed.
pub const DOSSIER_FIELDS: [&str; 10] = [
    "created_at",
    "created_by",
    "expires",
    "files",
    "language",
    "purpose",
    "recipient",
    "records",
    "redaction",
    "title",
];

/// Path of an entry's proof.
pub fn proof_path(index: u64) -> String {
    format!("proofs/{index}.tlog-proof")
}

/// Path of an included file.
pub fn file_path(sha256_hex: &str) -> String {
    format!("files/{sha256_hex}")
}

/// One disclosed field: its value (as committed, canonical JSON) and the
/// salt of its commitment in hex.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Disclosed {
    /// The value.
    pub value: Value,
    /// 64 hex digits.
    pub salt: String,
}

/// An entry as the manifest presents it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct EntryPart {
    /// The entry's index in the log (its proof is `proofs/<index>.tlog-proof`).
    pub index: u64,
    /// The fields shown, by name.
    pub disclosed: BTreeMap<String, Disclosed>,
    /// The fields withheld.
    #[serde(default)]
    pub redacted: Vec<String>,
}

/// A file the dossier refers to.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct FilePart {
    /// SHA-256 of the content, hex.
    pub sha256: String,
    /// Bytes.
    pub size: u64,
    /// Whether the content is in the bundle (`files/<sha256>`) or only its hash.
    pub included: bool,
}

/// A consistency proof from a checkpoint given to the recipient earlier.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ConsistencyPart {
    /// The earlier signed checkpoint, as it was given.
    pub checkpoint: String,
    /// The proof hashes, base64.
    pub proof: Vec<String>,
}

/// `dossier.json`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Manifest {
    /// [`FORMAT`].
    pub format: String,
    /// The dossier's own entry, every field disclosed.
    pub dossier: EntryPart,
    /// The records, in the order the dossier entry lists them.
    pub records: Vec<EntryPart>,
    /// The files.
    pub files: Vec<FilePart>,
    /// Proofs that this checkpoint extends earlier ones.
    #[serde(default)]
    pub consistency: Vec<ConsistencyPart>,
}

/// One record in a dossier entry's `records` list.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct RecordRef {
    /// Index of the record's entry.
    pub index: u64,
    /// Its leaf hash, hex.
    pub leaf: String,
}

/// One file in a dossier entry's `files` list.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct FileRef {
    /// SHA-256, hex.
    pub sha256: String,
    /// Bytes.
    pub size: u64,
}

// ---------------------------------------------------------------------------
// Reading a bundle

/// Where a bundle's parts are read from: the ZIP file, or a folder it was
/// unpacked into.
pub trait Source {
    /// A part's bytes, or `None` when the bundle has no such part.
    fn bytes(&mut self, path: &str) -> std::io::Result<Option<Vec<u8>>>;
    /// A part's SHA-256 and size, streamed, or `None` when absent.
    fn hash(&mut self, path: &str) -> std::io::Result<Option<(Hash, u64)>>;
}

/// Hashes a reader in 1 MiB reads.
pub fn hash_reader(r: &mut dyn Read) -> std::io::Result<(Hash, u64)> {
    let mut h = Sha256::new();
    let mut buf = vec![0u8; 1 << 20];
    let mut size = 0u64;
    loop {
        let n = r.read(&mut buf)?;
        if n == 0 {
            break;
        }
        h.update(&buf[..n]);
        size += n as u64;
    }
    Ok((h.finalize().into(), size))
}

/// A bundle read from its ZIP file.
pub struct ZipSource<R: Read + Seek>(zip::ZipArchive<R>);

impl<R: Read + Seek> ZipSource<R> {
    /// Opens the archive.
    pub fn new(reader: R) -> std::io::Result<Self> {
        zip::ZipArchive::new(reader)
            .map(ZipSource)
            .map_err(|e| std::io::Error::new(std::io::ErrorKind::InvalidData, e))
    }

    fn entry(&mut self, path: &str) -> std::io::Result<Option<zip::read::ZipFile<'_, R>>> {
        match self.0.by_name(path) {
            Ok(f) => Ok(Some(f)),
            Err(zip::result::ZipError::FileNotFound) => Ok(None),
            Err(e) => Err(std::io::Error::new(std::io::ErrorKind::InvalidData, e)),
        }
    }
}

impl<R: Read + Seek> Source for ZipSource<R> {
    fn bytes(&mut self, path: &str) -> std::io::Result<Option<Vec<u8>>> {
        let Some(mut f) = self.entry(path)? else {
            return Ok(None);
        };
        let mut out = Vec::new();
        f.read_to_end(&mut out)?;
        Ok(Some(out))
    }

    fn hash(&mut self, path: &str) -> std::io::Result<Option<(Hash, u64)>> {
        let Some(mut f) = self.entry(path)? else {
            return Ok(None);
        };
        hash_reader(&mut f).map(Some)
    }
}

/// A bundle unpacked into a folder (with `unzip`, for instance).
pub struct DirSource(pub PathBuf);

impl DirSource {
    /// The file of a part. Paths come from this module's conventions, but a
    /// manifest could still name a hash like `../x`; such paths are refused.
    fn file(&self, path: &str) -> Option<PathBuf> {
        let p = Path::new(path);
        p.components()
            .all(|c| matches!(c, Component::Normal(_)))
            .then(|| self.0.join(p))
    }
}

impl Source for DirSource {
    fn bytes(&mut self, path: &str) -> std::io::Result<Option<Vec<u8>>> {
        match self.file(path).map(std::fs::read) {
            None => Ok(None),
            Some(Err(e)) if e.kind() == std::io::ErrorKind::NotFound => Ok(None),
            Some(r) => r.map(Some),
        }
    }

    fn hash(&mut self, path: &str) -> std::io::Result<Option<(Hash, u64)>> {
        match self.file(path).map(std::fs::File::open) {
            None => Ok(None),
            Some(Err(e)) if e.kind() == std::io::ErrorKind::NotFound => Ok(None),
            Some(Err(e)) => Err(e),
            Some(Ok(mut f)) => hash_reader(&mut f).map(Some),
        }
    }
}

// ---------------------------------------------------------------------------
// Verification

/// Something wrong with a bundle, precise enough to find the altered part.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum Problem {
    /// A required part is missing.
    #[error("the bundle has no {0}")]
    Missing(String),
    /// A part cannot be read or parsed.
    #[error("{part} cannot be read: {why}")]
    Unreadable {
        /// Which part.
        part: String,
        /// Why.
        why: String,
    },
    /// The verifier key in the bundle is not the one the reader expected.
    #[error("the bundle's key is {found}, not the expected key {expected}")]
    OtherKey {
        /// The bundle's key (name+id).
        found: String,
        /// The pinned key (name+id).
        expected: String,
    },
    /// The checkpoint does not verify with the key.
    #[error("the checkpoint: {0}")]
    Checkpoint(String),
    /// A proof does not lead to the bundle's checkpoint.
    #[error("entry {index}: {why}")]
    Proof {
        /// Entry index.
        index: u64,
        /// Why.
        why: String,
    },
    /// A disclosed field does not match its commitment.
    #[error("entry {index}, field `{field}`: the value shown or its salt does not match the commitment in the log")]
    FieldMismatch {
        /// Entry index.
        index: u64,
        /// Field.
        field: String,
    },
    /// A field is shown or listed as redacted but the entry has no such field.
    #[error("entry {index}, field `{field}`: the entry has no such field")]
    UnknownField {
        /// Entry index.
        index: u64,
        /// Field.
        field: String,
    },
    /// A field of the entry is neither shown nor listed as redacted.
    #[error("entry {index}, field `{field}`: neither shown nor listed as redacted")]
    Unaccounted {
        /// Entry index.
        index: u64,
        /// Field.
        field: String,
    },
    /// The dossier's own entry is not what it should be.
    #[error("the dossier entry: {0}")]
    Dossier(String),
    /// The records in the bundle differ from the list the dossier entry commits to.
    #[error("records: {0}")]
    Records(String),
    /// The files differ from the list the dossier entry commits to.
    #[error("file {sha256}: {why}")]
    File {
        /// The file's recorded hash.
        sha256: String,
        /// Why.
        why: String,
    },
    /// A consistency proof to an earlier checkpoint failed.
    #[error("earlier checkpoint {position}: {why}")]
    Consistency {
        /// Position in the manifest's list, from 1.
        position: usize,
        /// Why.
        why: String,
    },
}

/// A checked record, for the report.
#[derive(Debug, Clone, PartialEq)]
pub struct RecordReport {
    /// The entry's index.
    pub index: u64,
    /// The entry (kind, record, time, commitments).
    pub entry: Entry,
    /// Fields shown, with their values.
    pub shown: BTreeMap<String, Value>,
    /// Fields withheld.
    pub redacted: Vec<String>,
}

/// A checked file, for the report.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FileReport {
    /// SHA-256, hex.
    pub sha256: String,
    /// Bytes.
    pub size: u64,
    /// In the bundle (and its content checked), or hash only.
    pub included: bool,
}

/// What verification found.
#[derive(Debug, Clone, Default)]
pub struct Report {
    /// The bundle's key (`name+id`), when readable.
    pub key: Option<String>,
    /// The checkpoint, when it verified.
    pub checkpoint: Option<Checkpoint>,
    /// The dossier's own fields, when they verified.
    pub dossier: BTreeMap<String, Value>,
    /// The dossier entry's record id and time.
    pub dossier_entry: Option<Entry>,
    /// Each record checked.
    pub records: Vec<RecordReport>,
    /// Each file.
    pub files: Vec<FileReport>,
    /// Sizes of earlier checkpoints this one was shown to extend.
    pub extends: Vec<u64>,
    /// Everything wrong.
    pub problems: Vec<Problem>,
}

impl Report {
    /// True when nothing was wrong.
    pub fn ok(&self) -> bool {
        self.problems.is_empty()
    }

    /// The dossier's expiry date (`YYYY-MM-DD`), when shown and verified.
    pub fn expires(&self) -> Option<&str> {
        self.dossier.get("expires").and_then(Value::as_str)
    }
}

/// A key's `name+id` label.
pub fn key_label(key: &NoteVerifier) -> String {
    format!("{}+{}", key.name, hex(&key.id))
}

fn text_part(source: &mut dyn Source, path: &str, report: &mut Report) -> Option<String> {
    match source.bytes(path) {
        Ok(Some(b)) => match String::from_utf8(b) {
            Ok(t) => Some(t),
            Err(_) => {
                report.problems.push(Problem::Unreadable {
                    part: path.into(),
                    why: "not UTF-8 text".into(),
                });
                None
            }
        },
        Ok(None) => {
            report.problems.push(Problem::Missing(path.into()));
            None
        }
        Err(e) => {
            report.problems.push(Problem::Unreadable {
                part: path.into(),
                why: e.to_string(),
            });
            None
        }
    }
}

fn parse_salt(hex_salt: &str) -> Option<[u8; 32]> {
    if hex_salt.len() != 64 {
        return None;
    }
    let mut out = [0u8; 32];
    for (i, chunk) in hex_salt.as_bytes().chunks(2).enumerate() {
        out[i] = u8::from_str_radix(std::str::from_utf8(chunk).ok()?, 16).ok()?;
    }
    Some(out)
}

/// Checks one entry: its proof against the checkpoint, then each shown
/// field against its commitment, and that every field is accounted for.
fn check_entry(
    source: &mut dyn Source,
    part: &EntryPart,
    key: &NoteVerifier,
    checkpoint_text: &str,
    report: &mut Report,
) -> Option<(Entry, Hash)> {
    let index = part.index;
    let path = proof_path(index);
    let text = text_part(source, &path, report)?;
    let proof = match TlogProof::parse(&text) {
        Ok(p) => p,
        Err(e) => {
            report.problems.push(Problem::Proof {
                index,
                why: e.to_string(),
            });
            return None;
        }
    };
    if proof.index != index {
        report.problems.push(Problem::Proof {
            index,
            why: format!("the proof file is for entry {}", proof.index),
        });
        return None;
    }
    if proof.checkpoint != checkpoint_text {
        report.problems.push(Problem::Proof {
            index,
            why: "the proof leads to another checkpoint than the bundle's".into(),
        });
        return None;
    }
    let entry = match proof.verify(key) {
        Ok((_, entry)) => entry,
        Err(e) => {
            report.problems.push(Problem::Proof {
                index,
                why: e.to_string(),
            });
            return None;
        }
    };
    let mut ok = true;
    for (field, d) in &part.disclosed {
        if !entry.fields.contains_key(field) {
            report.problems.push(Problem::UnknownField {
                index,
                field: field.clone(),
            });
            ok = false;
            continue;
        }
        let matches = parse_salt(&d.salt)
            .is_some_and(|salt| hex(&commit(&salt, &canonical_json(&d.value))) == entry.fields[field]);
        if !matches {
            report.problems.push(Problem::FieldMismatch {
                index,
                field: field.clone(),
            });
            ok = false;
        }
    }
    for field in &part.redacted {
        if !entry.fields.contains_key(field) || part.disclosed.contains_key(field) {
            report.problems.push(Problem::UnknownField {
                index,
                field: field.clone(),
            });
            ok = false;
        }
    }
    for field in entry.fields.keys() {
        if !part.disclosed.contains_key(field) && !part.redacted.contains(field) {
            report.problems.push(Problem::Unaccounted {
                index,
                field: field.clone(),
            });
            ok = false;
        }
    }
    let leaf = leaf_hash(&proof.entry);
    ok.then_some((entry, leaf))
}

/// Verifies a bundle. `pinned` is the key the reader expects (from the
/// organisation's publication or an earlier dossier); without it the key in
/// the bundle is used and named in the report.
pub fn verify(source: &mut dyn Source, pinned: Option<&NoteVerifier>) -> Report {
    let mut report = Report::default();
    let Some(manifest_text) = text_part(source, MANIFEST, &mut report) else {
        return report;
    };
    let manifest: Manifest = match serde_json::from_str(&manifest_text) {
        Ok(m) => m,
        Err(e) => {
            report.problems.push(Problem::Unreadable {
                part: MANIFEST.into(),
                why: e.to_string(),
            });
            return report;
        }
    };
    if manifest.format != FORMAT {
        report.problems.push(Problem::Unreadable {
            part: MANIFEST.into(),
            why: format!("format `{}`, this verifier reads `{FORMAT}`", manifest.format),
        });
        return report;
    }
    let Some(key_text) = text_part(source, KEY, &mut report) else {
        return report;
    };
    let key = match NoteVerifier::parse(&key_text) {
        Ok(k) => k,
        Err(e) => {
            report.problems.push(Problem::Unreadable {
                part: KEY.into(),
                why: e.to_string(),
            });
            return report;
        }
    };
    report.key = Some(key_label(&key));
    if let Some(p) = pinned {
        if *p != key {
            report.problems.push(Problem::OtherKey {
                found: key_label(&key),
                expected: key_label(p),
            });
            return report;
        }
    }
    let Some(checkpoint_text) = text_part(source, CHECKPOINT, &mut report) else {
        return report;
    };
    let checkpoint = match key
        .verify(&checkpoint_text)
        .and_then(Checkpoint::parse_body)
        .and_then(|c| {
            if c.origin == key.name {
                Ok(c)
            } else {
                Err(crate::note::NoteError::Malformed("origin (not the key's log)"))
            }
        }) {
        Ok(c) => c,
        Err(e) => {
            report.problems.push(Problem::Checkpoint(e.to_string()));
            return report;
        }
    };
    report.checkpoint = Some(checkpoint.clone());

    // The dossier's own entry: every field shown.
    let dossier = check_entry(source, &manifest.dossier, &key, &checkpoint_text, &mut report);
    if let Some((entry, _)) = &dossier {
        if entry.kind != DOSSIER_ENTRY || entry.record_kind != "dossier" {
            report.problems.push(Problem::Dossier(format!(
                "entry {} is a `{}` of a {}, not a dossier",
                manifest.dossier.index, entry.kind, entry.record_kind
            )));
        } else if !entry.fields.keys().map(String::as_str).eq(DOSSIER_FIELDS) {
            report.problems.push(Problem::Dossier(format!(
                "it commits to the fields {:?}, a dossier to exactly {DOSSIER_FIELDS:?}",
                entry.fields.keys().collect::<Vec<_>>()
            )));
        } else if !manifest.dossier.redacted.is_empty() {
            report.problems.push(Problem::Dossier(
                "no field of the dossier itself may be withheld".into(),
            ));
        } else {
            report.dossier = manifest
                .dossier
                .disclosed
                .iter()
                .map(|(k, d)| (k.clone(), d.value.clone()))
                .collect();
            report.dossier_entry = Some(entry.clone());
        }
    }
    let listed: Option<Vec<RecordRef>> = report
        .dossier
        .get("records")
        .and_then(|v| serde_json::from_value(v.clone()).ok());
    let files: Option<Vec<FileRef>> = report
        .dossier
        .get("files")
        .and_then(|v| serde_json::from_value(v.clone()).ok());
    if report.dossier_entry.is_some() && (listed.is_none() || files.is_none()) {
        report
            .problems
            .push(Problem::Dossier("its record or file list is not readable".into()));
    }

    // Records, in order, against the dossier's list.
    let mut leaves = Vec::new();
    for part in &manifest.records {
        let checked = check_entry(source, part, &key, &checkpoint_text, &mut report);
        let leaf = match &checked {
            Some((_, leaf)) => *leaf,
            None => leaf_or_zero(source, part.index),
        };
        leaves.push((part.index, hex(&leaf)));
        if let Some((entry, _)) = checked {
            report.records.push(RecordReport {
                index: part.index,
                entry,
                shown: part
                    .disclosed
                    .iter()
                    .map(|(k, d)| (k.clone(), d.value.clone()))
                    .collect(),
                redacted: part.redacted.clone(),
            });
        }
    }
    if let Some(listed) = &listed {
        compare_records(listed, &manifest.records, &leaves, &mut report);
    }

    // Files, against the dossier's list.
    if let Some(files) = &files {
        let committed: BTreeMap<&str, u64> = files.iter().map(|f| (f.sha256.as_str(), f.size)).collect();
        let given: BTreeSet<&str> = manifest.files.iter().map(|f| f.sha256.as_str()).collect();
        for f in files {
            if !given.contains(f.sha256.as_str()) {
                report.problems.push(Problem::File {
                    sha256: f.sha256.clone(),
                    why: "listed in the dossier entry but missing from the bundle's file list".into(),
                });
            }
        }
        for f in &manifest.files {
            match committed.get(f.sha256.as_str()) {
                None => report.problems.push(Problem::File {
                    sha256: f.sha256.clone(),
                    why: "not listed in the dossier entry".into(),
                }),
                Some(size) if *size != f.size => report.problems.push(Problem::File {
                    sha256: f.sha256.clone(),
                    why: format!("the dossier entry records {size} bytes, the bundle says {}", f.size),
                }),
                Some(_) => check_file(source, f, &mut report),
            }
        }
    }

    // Earlier checkpoints given to the same recipient.
    for (i, c) in manifest.consistency.iter().enumerate() {
        let position = i + 1;
        let fail = |why: String| Problem::Consistency { position, why };
        let earlier = match key.verify(&c.checkpoint).and_then(Checkpoint::parse_body) {
            Ok(e) if e.origin == key.name => e,
            Ok(_) => {
                report.problems.push(fail("it is another log's checkpoint".into()));
                continue;
            }
            Err(e) => {
                report.problems.push(fail(e.to_string()));
                continue;
            }
        };
        let proof: Result<Vec<Vec<u8>>, _> = c.proof.iter().map(|h| B64.decode(h)).collect();
        let Ok(proof) = proof else {
            report.problems.push(fail("a proof hash is not base64".into()));
            continue;
        };
        match verify_consistency(earlier.size, checkpoint.size, &earlier.root, &checkpoint.root, &proof) {
            Ok(()) => report.extends.push(earlier.size),
            Err(e) => report.problems.push(fail(e.to_string())),
        }
    }
    report
}

/// The leaf hash of the entry in a record's proof file (when the entry's
/// fields failed their checks), or zeros when it cannot be read; either is
/// a problem already reported.
fn leaf_or_zero(source: &mut dyn Source, index: u64) -> Hash {
    source
        .bytes(&proof_path(index))
        .ok()
        .flatten()
        .and_then(|b| String::from_utf8(b).ok())
        .and_then(|t| TlogProof::parse(&t).ok())
        .map(|p| leaf_hash(&p.entry))
        .unwrap_or([0; 32])
}

fn compare_records(listed: &[RecordRef], parts: &[EntryPart], leaves: &[(u64, String)], report: &mut Report) {
    let given: BTreeSet<u64> = parts.iter().map(|p| p.index).collect();
    let wanted: BTreeSet<u64> = listed.iter().map(|r| r.index).collect();
    for r in listed.iter().filter(|r| !given.contains(&r.index)) {
        report.problems.push(Problem::Records(format!(
            "entry {} is listed in the dossier entry but missing from the bundle",
            r.index
        )));
    }
    for p in parts.iter().filter(|p| !wanted.contains(&p.index)) {
        report.problems.push(Problem::Records(format!(
            "entry {} is in the bundle but not listed in the dossier entry",
            p.index
        )));
    }
    if given == wanted && given.len() == parts.len() {
        for (pos, (r, (index, leaf))) in listed.iter().zip(leaves).enumerate() {
            if r.index != *index {
                report.problems.push(Problem::Records(format!(
                    "position {} holds entry {index}, the dossier entry lists entry {} there (records reordered)",
                    pos + 1,
                    r.index
                )));
                break;
            }
            if r.leaf != *leaf {
                report.problems.push(Problem::Records(format!(
                    "entry {index} is not the entry the dossier lists (leaf hash differs)"
                )));
            }
        }
    } else if given.len() != parts.len() {
        report
            .problems
            .push(Problem::Records("an entry appears more than once".into()));
    }
}

fn check_file(source: &mut dyn Source, f: &FilePart, report: &mut Report) {
    if f.included {
        match source.hash(&file_path(&f.sha256)) {
            Ok(Some((hash, size))) => {
                if hex(&hash) != f.sha256 {
                    report.problems.push(Problem::File {
                        sha256: f.sha256.clone(),
                        why: format!(
                            "the content's SHA-256 is {}: the file was replaced or altered",
                            hex(&hash)
                        ),
                    });
                    return;
                }
                if size != f.size {
                    report.problems.push(Problem::File {
                        sha256: f.sha256.clone(),
                        why: format!("{size} bytes, {} recorded", f.size),
                    });
                    return;
                }
            }
            Ok(None) => {
                report.problems.push(Problem::File {
                    sha256: f.sha256.clone(),
                    why: format!("marked as included but {} is missing", file_path(&f.sha256)),
                });
                return;
            }
            Err(e) => {
                report.problems.push(Problem::File {
                    sha256: f.sha256.clone(),
                    why: e.to_string(),
                });
                return;
            }
        }
    }
    report.files.push(FileReport {
        sha256: f.sha256.clone(),
        size: f.size,
        included: f.included,
    });
}

// ---------------------------------------------------------------------------
// Writing a bundle

/// Writes a bundle's parts into a ZIP file. Parts are stored, not
/// compressed: evidence is mostly compressed media already, and stored
/// parts can be hashed at the speed of the disk.
pub struct BundleWriter<W: Write + Seek> {
    zip: zip::ZipWriter<W>,
}

impl<W: Write + Seek> BundleWriter<W> {
    /// Starts a bundle.
    pub fn new(out: W) -> Self {
        BundleWriter {
            zip: zip::ZipWriter::new(out),
        }
    }

    fn options(size: u64) -> zip::write::SimpleFileOptions {
        zip::write::SimpleFileOptions::default()
            .compression_method(zip::CompressionMethod::Stored)
            .unix_permissions(0o644)
            .large_file(size >= u32::MAX as u64)
    }

    /// Adds a part from memory.
    pub fn add(&mut self, path: &str, bytes: &[u8]) -> std::io::Result<()> {
        self.zip
            .start_file(path, Self::options(bytes.len() as u64))
            .map_err(std::io::Error::other)?;
        self.zip.write_all(bytes)
    }

    /// Adds a part streamed from a reader of `size` bytes and returns the
    /// SHA-256 of what was written.
    pub fn add_stream(&mut self, path: &str, size: u64, reader: &mut dyn Read) -> std::io::Result<(Hash, u64)> {
        self.zip
            .start_file(path, Self::options(size))
            .map_err(std::io::Error::other)?;
        let mut h = Sha256::new();
        let mut buf = vec![0u8; 1 << 20];
        let mut written = 0u64;
        loop {
            let n = reader.read(&mut buf)?;
            if n == 0 {
                break;
            }
            h.update(&buf[..n]);
            self.zip.write_all(&buf[..n])?;
            written += n as u64;
        }
        Ok((h.finalize().into(), written))
    }

    /// Finishes the archive.
    pub fn finish(self) -> std::io::Result<W> {
        self.zip.finish().map_err(std::io::Error::other)
    }
}

#[cfg(test)]
mod tests;
