//! A dossier's bundle ([`lantern_ledger::bundle`]): its checkpoint fixed
//! on first export, the disclosures its redaction profile allows, one
//! proof per entry, consistency proofs to the checkpoints the recipient
//! already holds, the evidence files streamed out of the vault, and a
//! readable summary in the recipient's language.

use std::collections::{BTreeMap, BTreeSet};
use std::io::{Read, Seek, SeekFrom};

use axum::body::Body;
use axum::http::header;
use axum::response::{IntoResponse, Response};
use futures_util::StreamExt;
use lantern_domain::testimony::{withheld_fields, Redaction};
use lantern_domain::user::UiLanguage;
use lantern_ledger::bundle::{self, BundleWriter, ConsistencyPart, Disclosed, EntryPart, FilePart, Manifest};
use lantern_ledger::entry::hex;
use lantern_ledger::proof::TlogProof;
use lantern_store::Dossier;
use serde_json::Value;

use crate::context::Ctx;
use crate::error::AppError;
use crate::pdf::Block;
use crate::AppState;

/// An evidence file to include: its path in the bundle, the stored object
/// (name, wrapped key), its SHA-256 and size.
type Included = (String, String, Vec<u8>, [u8; 32], u64);

/// What goes into the ZIP, prepared from the store.
struct Prepared {
    manifest: Manifest,
    proofs: Vec<(u64, String)>,
    checkpoint: String,
    key: String,
    /// Objects to include.
    objects: Vec<Included>,
    summary: String,
    summary_pdf: Vec<u8>,
}

/// Fixes the dossier's checkpoint (signing one that covers its entry if
/// none does yet), gathers the disclosures, proofs and consistency proofs.
async fn prepare(state: &AppState, ctx: &Ctx, d: Dossier) -> Result<Prepared, AppError> {
    let signer = state
        .signer
        .get()
        .cloned()
        .ok_or_else(|| AppError::Internal("the server has no ledger signing key".into()))?;
    let now = state.clock.now();
    let audit = ctx.audit(now);
    let key = signer.verifier_key();
    let dossier = d.clone();
    let mut prepared = state
        .db(move |s| {
            let size = match d.checkpoint_size {
                Some(size) => size,
                None => {
                    lantern_store::sign_checkpoint(s, &signer, now)?;
                    let latest = s.latest_checkpoint()?.ok_or(lantern_store::StoreError::NotFound)?;
                    s.fix_dossier_checkpoint(d.id, latest.size)?
                }
            };
            let checkpoints = s.checkpoints()?;
            let find = |size: u64| {
                checkpoints
                    .iter()
                    .find(|c| c.size == size)
                    .cloned()
                    .ok_or(lantern_store::StoreError::NotFound)
            };
            let checkpoint = find(size)?;
            let disclosures = s.dossier_disclosures(d.id, &audit)?;
            let confidential: BTreeMap<String, BTreeSet<lantern_domain::testimony::ConfidentialPart>> = d
                .testimonies
                .iter()
                .map(|t| {
                    Ok((
                        t.to_string(),
                        s.testimony(*t)?
                            .map(|x| x.confidential.into_iter().collect())
                            .unwrap_or_default(),
                    ))
                })
                .collect::<lantern_store::StoreResult<_>>()?;
            let redaction: BTreeSet<Redaction> = d.redaction.iter().copied().collect();
            let mut proofs = Vec::new();
            let mut parts = Vec::new();
            for disc in &disclosures {
                let entry =
                    lantern_ledger::entry::Entry::parse(&disc.entry).ok_or(lantern_store::StoreError::NotFound)?;
                let none = BTreeSet::new();
                let withheld = if disc.record_kind == "dossier" {
                    BTreeSet::new()
                } else {
                    withheld_fields(
                        &disc.record_kind,
                        &redaction,
                        confidential.get(&entry.record_id).unwrap_or(&none),
                    )
                };
                let mut disclosed = BTreeMap::new();
                let mut redacted = disc.unread.clone();
                for (field, (value, salt)) in &disc.fields {
                    if withheld.contains(field.as_str()) {
                        redacted.push(field.clone());
                    } else {
                        disclosed.insert(
                            field.clone(),
                            Disclosed {
                                value: value.clone(),
                                salt: hex(salt),
                            },
                        );
                    }
                }
                redacted.sort();
                parts.push(EntryPart {
                    index: disc.index,
                    disclosed,
                    redacted,
                });
                let hashes = s.ledger_inclusion_proof(disc.index, size)?;
                proofs.push((
                    disc.index,
                    TlogProof {
                        entry: disc.entry.clone(),
                        index: disc.index,
                        hashes,
                        checkpoint: checkpoint.note.clone(),
                    }
                    .format(),
                ));
            }
            let mut consistency = Vec::new();
            let mut earlier: Vec<u64> = s
                .dossiers(Some(&[d.recipient.id]))?
                .into_iter()
                .filter_map(|o| o.checkpoint_size)
                .filter(|c| *c < size)
                .collect();
            earlier.sort_unstable();
            earlier.dedup();
            for e in earlier {
                let proof = s.ledger_consistency_proof(e, size)?;
                consistency.push(ConsistencyPart {
                    checkpoint: find(e)?.note,
                    proof: proof.iter().map(|h| base64_encode(h)).collect(),
                });
            }
            let catalogue = s.vault_objects()?;
            let mut files = Vec::new();
            let mut objects = Vec::new();
            for (sha, fsize) in &d.files {
                files.push(FilePart {
                    sha256: sha.clone(),
                    size: *fsize,
                    included: d.include_files,
                });
                if d.include_files {
                    let o = catalogue
                        .iter()
                        .find(|o| o.sha256 == *sha)
                        .ok_or(lantern_store::StoreError::NotFound)?;
                    let hash = lantern_vault::objects::hash_from_hex(sha).ok_or(lantern_store::StoreError::NotFound)?;
                    objects.push((
                        bundle::file_path(sha),
                        o.name.clone(),
                        o.wrapped_key.clone(),
                        hash,
                        o.size,
                    ));
                }
            }
            let mut parts = parts.into_iter();
            let dossier_part = parts.next().ok_or(lantern_store::StoreError::NotFound)?;
            let manifest = Manifest {
                format: bundle::FORMAT.into(),
                dossier: dossier_part,
                records: parts.collect(),
                files,
                consistency,
            };
            Ok(Prepared {
                manifest,
                proofs,
                checkpoint: checkpoint.note,
                key: key.clone(),
                objects,
                summary: String::new(),
                summary_pdf: Vec::new(),
            })
        })
        .await?;
    let (lang, blocks) = summary(state, &dossier, &prepared.manifest, &prepared.key);
    prepared.summary = summary_html(lang, &dossier.title, &blocks);
    let mut all = vec![Block::Heading(dossier.title.clone())];
    all.extend(blocks);
    prepared.summary_pdf = crate::pdf::render(&dossier.title, &all, lang.is_rtl());
    Ok(prepared)
}

fn base64_encode(bytes: &[u8]) -> String {
    use base64::Engine;
    base64::engine::general_purpose::STANDARD.encode(bytes)
}

fn escape(s: &str) -> String {
    s.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
        .replace('"', "&quot;")
}

/// The language a recipient reads the summary in: theirs when the
/// interface has it, else English.
fn recipient_language(d: &Dossier) -> UiLanguage {
    UiLanguage::from_accept_language(&d.recipient.language).unwrap_or(UiLanguage::En)
}

/// The readable summary, in the recipient's language: what the dossier
/// holds, the hashes, and how to check it. Not part of what is verified
/// (the manifest is); record field names stay as the manifest writes them.
/// The same blocks make the HTML and the PDF version.
fn summary(state: &AppState, d: &Dossier, m: &Manifest, key: &str) -> (UiLanguage, Vec<Block>) {
    let lang = recipient_language(d);
    let t = |k: &str| state.i18n.text(lang, k, &[]);
    let mut blocks = vec![
        Block::Text(format!("{}: {}", t("field-recipient"), d.recipient.name)),
        Block::Text(format!("{}: {}", t("field-purpose"), d.purpose)),
        Block::Text(format!("{}: {}", t("field-expires"), d.expires)),
        Block::Gap,
        Block::Text(t("summary-verify")),
        Block::Code(format!("lantern-verify DOSSIER.zip --key {key}")),
        Block::Text(t("summary-compare-key")),
    ];
    for (i, r) in m.records.iter().enumerate() {
        let record = d.records.get(i);
        let kind = record
            .map(|r| state.i18n.text(lang, &format!("record-kind-{}", r.kind), &[]))
            .unwrap_or_default();
        blocks.push(Block::Heading(format!(
            "{kind} {}",
            record.map(|r| r.id.as_str()).unwrap_or("")
        )));
        blocks.push(Block::Text(format!("{} {}", t("dossier-entry"), r.index)));
        for (k, v) in &r.disclosed {
            let text = match &v.value {
                Value::String(s) => s.clone(),
                other => other.to_string(),
            };
            blocks.push(Block::Text(format!("{k}: {text}")));
        }
        let withheld = if r.redacted.is_empty() {
            t("summary-nothing-withheld")
        } else {
            r.redacted.join(", ")
        };
        blocks.push(Block::Text(format!("{}: {withheld}", t("summary-withheld"))));
    }
    blocks.push(Block::Heading(t("dossier-files")));
    for f in &m.files {
        let only = if f.included {
            String::new()
        } else {
            format!(", {}", t("summary-hash-only"))
        };
        blocks.push(Block::Code(format!(
            "{} ({} {}){only}",
            f.sha256,
            f.size,
            t("summary-bytes")
        )));
    }
    (lang, blocks)
}

/// The summary as an HTML page (no script, no outside resource).
fn summary_html(lang: UiLanguage, title: &str, blocks: &[Block]) -> String {
    let mut body = String::new();
    for b in blocks {
        match b {
            Block::Heading(t) => body.push_str(&format!("<h2 dir=\"auto\">{}</h2>\n", escape(t))),
            Block::Text(t) => body.push_str(&format!("<p dir=\"auto\">{}</p>\n", escape(t))),
            Block::Code(t) => body.push_str(&format!("<pre dir=\"ltr\"><code>{}</code></pre>\n", escape(t))),
            Block::Gap => body.push_str("<hr>\n"),
        }
    }
    format!(
        "<!doctype html><html lang=\"{lang}\" dir=\"{dir}\"><head><meta charset=\"utf-8\"><title>{title}</title></head>\
         <body><h1 dir=\"auto\">{title}</h1>\n{body}</body></html>\n",
        lang = lang.code(),
        dir = if lang.is_rtl() { "rtl" } else { "ltr" },
        title = escape(title),
    )
}

const README: &str = "This file is a Lantern dossier.\n\n\
Check it offline with the verifier: lantern-verify THIS-FILE.zip --key KEY\n\
(KEY is the log key the sending organisation published; the key in key.txt is\n\
the one the bundle claims.)\n\n\
To check by hand: every proofs/N.tlog-proof is a C2SP tlog-proof whose entry\n\
(the extra line) is included in the log described by checkpoint.txt, a C2SP\n\
signed note by key.txt. dossier.json shows each disclosed field with the salt\n\
of its commitment: SHA-256(\"lantern commitment v1\" 0x00, salt, canonical JSON\n\
of the value) equals the field's hex in the entry. Each files/HASH has that\n\
SHA-256 (sha256sum files/*). summary.html and summary.pdf are for reading\n\
and are not verified.\n";

/// What the async side sends the blocking ZIP writer about one object.
enum Piece {
    /// Some content.
    Chunk(bytes::Bytes),
    /// The object is complete.
    End,
    /// Reading it failed.
    Failed(String),
}

/// Reads one object at a time from the async side: `Ok(0)` at its end.
struct ChannelReader {
    rx: tokio::sync::mpsc::Receiver<Piece>,
    pending: bytes::Bytes,
}

impl Read for ChannelReader {
    fn read(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
        while self.pending.is_empty() {
            match self.rx.blocking_recv() {
                Some(Piece::Chunk(c)) => self.pending = c,
                Some(Piece::End) => return Ok(0),
                Some(Piece::Failed(e)) => return Err(std::io::Error::other(e)),
                None => return Err(std::io::Error::other("the object stream ended early")),
            }
        }
        let n = buf.len().min(self.pending.len());
        buf[..n].copy_from_slice(&self.pending.split_to(n));
        Ok(n)
    }
}

/// Builds the bundle into an unlinked temporary file (so no copy of
/// decrypted evidence stays on disk after the download) and streams it.
pub(crate) async fn bundle_response(state: &AppState, ctx: &Ctx, d: Dossier) -> Result<Response, AppError> {
    let name = format!("dossier-{}.zip", d.id);
    let mut p = prepare(state, ctx, d).await?;
    let objects = std::mem::take(&mut p.objects);
    let path = std::env::temp_dir().join(format!("lantern-bundle-{}", uuid::Uuid::now_v7()));
    let mut options = std::fs::OpenOptions::new();
    options.read(true).write(true).create_new(true);
    #[cfg(unix)]
    {
        use std::os::unix::fs::OpenOptionsExt;
        options.mode(0o600);
    }
    let file = options.open(&path).map_err(|e| AppError::Internal(e.to_string()))?;
    let _ = std::fs::remove_file(&path);
    let (tx, rx) = tokio::sync::mpsc::channel::<Piece>(16);
    let sizes: Vec<(String, u64)> = objects.iter().map(|o| (o.0.clone(), o.4)).collect();
    let writer = tokio::task::spawn_blocking(move || -> std::io::Result<std::fs::File> {
        let mut w = BundleWriter::new(file);
        w.add(
            bundle::MANIFEST,
            &serde_json::to_vec_pretty(&p.manifest).map_err(std::io::Error::other)?,
        )?;
        w.add(bundle::CHECKPOINT, p.checkpoint.as_bytes())?;
        w.add(bundle::KEY, format!("{}\n", p.key).as_bytes())?;
        for (index, text) in &p.proofs {
            w.add(&bundle::proof_path(*index), text.as_bytes())?;
        }
        w.add("summary.html", p.summary.as_bytes())?;
        w.add("summary.pdf", &p.summary_pdf)?;
        w.add("README.txt", README.as_bytes())?;
        let mut reader = ChannelReader {
            rx,
            pending: bytes::Bytes::new(),
        };
        for (path, size) in &sizes {
            let (_, written) = w.add_stream(path, *size, &mut reader)?;
            if written != *size {
                return Err(std::io::Error::other(format!(
                    "{path}: {written} bytes, {size} expected"
                )));
            }
        }
        w.finish()
    });
    for (_, object, wrapped, sha, _) in &objects {
        match state.vault.read(object, wrapped, *sha).await {
            Ok(mut stream) => {
                while let Some(chunk) = stream.next().await {
                    let piece = match chunk {
                        Ok(c) => Piece::Chunk(c),
                        Err(e) => Piece::Failed(e.to_string()),
                    };
                    if tx.send(piece).await.is_err() {
                        break;
                    }
                }
                let _ = tx.send(Piece::End).await;
            }
            Err(e) => {
                let _ = tx.send(Piece::Failed(e.to_string())).await;
                break;
            }
        }
    }
    drop(tx);
    let mut file = writer
        .await
        .map_err(|e| AppError::Internal(e.to_string()))?
        .map_err(|e| AppError::Internal(e.to_string()))?;
    file.seek(SeekFrom::Start(0))
        .map_err(|e| AppError::Internal(e.to_string()))?;
    let length = file.metadata().map(|m| m.len()).unwrap_or(0);
    let stream = futures_util::stream::unfold(Some(file), |file| async move {
        let mut file = file?;
        let read = tokio::task::spawn_blocking(move || {
            let mut buf = vec![0u8; 1 << 20];
            let n = file.read(&mut buf)?;
            buf.truncate(n);
            Ok::<_, std::io::Error>((buf, file))
        })
        .await;
        match read {
            Ok(Ok((buf, _))) if buf.is_empty() => None,
            Ok(Ok((buf, file))) => Some((Ok::<_, std::io::Error>(bytes::Bytes::from(buf)), Some(file))),
            Ok(Err(e)) => Some((Err(e), None)),
            Err(e) => Some((Err(std::io::Error::other(e.to_string())), None)),
        }
    });
    Ok((
        [
            (header::CONTENT_TYPE, "application/zip".to_string()),
            (header::CONTENT_LENGTH, length.to_string()),
            (header::CONTENT_DISPOSITION, format!("attachment; filename=\"{name}\"")),
            (header::CACHE_CONTROL, "private, no-store".to_string()),
        ],
        Body::from_stream(stream),
    )
        .into_response())
}
