//! Offline proof files: C2SP `tlog-proof` v1.
//!
//! ```text
//! c2sp.org/tlog-proof@v1
//! extra BASE64(ENTRY)
//! index N
//! BASE64(HASH)        one line per inclusion proof hash
//!
//! SIGNED CHECKPOINT   (a C2SP signed note)
//! ```
//!
//! Lantern puts the entry's canonical bytes in the `extra` line, so one file
//! holds everything needed: the verifier hashes the entry itself, never
//! trusting a hash written in the file.

use base64::engine::general_purpose::STANDARD as B64;
use base64::Engine;

use crate::entry::Entry;
use crate::note::{Checkpoint, NoteError, NoteVerifier};
use crate::{leaf_hash, verify_inclusion, Hash, ProofError};

/// The first line of every proof file.
pub const HEADER: &str = "c2sp.org/tlog-proof@v1";

/// A parsed proof file.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TlogProof {
    /// The entry's canonical bytes (the `extra` line).
    pub entry: Vec<u8>,
    /// The entry's index in the log.
    pub index: u64,
    /// The inclusion proof.
    pub hashes: Vec<Hash>,
    /// The signed checkpoint the proof leads to.
    pub checkpoint: String,
}

/// Why a proof file was refused; each names the step that failed.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ProofFileError {
    /// The file is not a tlog-proof v1 file, or a line is malformed.
    #[error("not a valid proof file: {0}")]
    Format(String),
    /// The checkpoint's signature or form.
    #[error("checkpoint: {0}")]
    Checkpoint(#[from] NoteError),
    /// The entry is not in the tree the checkpoint describes.
    #[error("inclusion: {0}")]
    Inclusion(#[from] ProofError),
    /// The entry in the file is not a canonical Lantern entry.
    #[error("the entry in the file is not a canonical Lantern entry")]
    Entry,
}

impl TlogProof {
    /// The file's text.
    pub fn format(&self) -> String {
        let mut out = format!("{HEADER}\nextra {}\nindex {}\n", B64.encode(&self.entry), self.index);
        for h in &self.hashes {
            out.push_str(&B64.encode(h));
            out.push('\n');
        }
        out.push('\n');
        out.push_str(&self.checkpoint);
        out
    }

    /// Parses a file, strictly.
    pub fn parse(text: &str) -> Result<TlogProof, ProofFileError> {
        let bad = |what: &str| ProofFileError::Format(what.to_string());
        let (head, checkpoint) = text
            .split_once("\n\n")
            .ok_or_else(|| bad("no empty line before the checkpoint"))?;
        let mut lines = head.split('\n');
        if lines.next() != Some(HEADER) {
            return Err(bad("the first line is not c2sp.org/tlog-proof@v1"));
        }
        let mut line = lines.next().ok_or_else(|| bad("no index line"))?;
        let mut entry = None;
        if let Some(extra) = line.strip_prefix("extra ") {
            entry = Some(B64.decode(extra).map_err(|_| bad("the extra line is not base64"))?);
            line = lines.next().ok_or_else(|| bad("no index line"))?;
        }
        let index = line
            .strip_prefix("index ")
            .filter(|n| !n.is_empty() && n.bytes().all(|b| b.is_ascii_digit()) && (n.len() == 1 || !n.starts_with('0')))
            .and_then(|n| n.parse::<u64>().ok())
            .ok_or_else(|| bad("the index line is not `index` and a decimal number"))?;
        let mut hashes = Vec::new();
        for (i, l) in lines.enumerate() {
            let bytes = B64
                .decode(l)
                .map_err(|_| bad(&format!("proof hash {i} is not base64")))?;
            let h: Hash = bytes.try_into().map_err(|b: Vec<u8>| {
                ProofFileError::Inclusion(ProofError::BadHashLength {
                    what: format!("proof hash {i}"),
                    len: b.len(),
                })
            })?;
            hashes.push(h);
        }
        Ok(TlogProof {
            entry: entry.ok_or_else(|| bad("no extra line with the entry"))?,
            index,
            hashes,
            checkpoint: checkpoint.to_string(),
        })
    }

    /// Verifies the proof offline: the checkpoint's signature by `key`, then
    /// the entry's inclusion in the tree it describes. Returns the checkpoint
    /// and the entry.
    pub fn verify(&self, key: &NoteVerifier) -> Result<(Checkpoint, Entry), ProofFileError> {
        let body = key.verify(&self.checkpoint)?;
        let checkpoint = Checkpoint::parse_body(body)?;
        if checkpoint.origin != key.name {
            return Err(ProofFileError::Checkpoint(NoteError::Malformed(
                "origin (not the key's log)",
            )));
        }
        let proof: Vec<Vec<u8>> = self.hashes.iter().map(|h| h.to_vec()).collect();
        verify_inclusion(
            self.index,
            checkpoint.size,
            &leaf_hash(&self.entry),
            &proof,
            &checkpoint.root,
        )?;
        let entry = Entry::parse(&self.entry).ok_or(ProofFileError::Entry)?;
        Ok((checkpoint, entry))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::entry::ENTRY_VERSION;
    use crate::note::NoteSigner;
    use crate::{inclusion_proof, root};

    fn setup() -> (TlogProof, NoteVerifier) {
        let entries: Vec<Vec<u8>> = (0..7)
            .map(|i| {
                Entry {
                    v: ENTRY_VERSION,
                    kind: "audit".into(),
                    at: "2026-01-01T00:00:00Z".into(),
                    record_kind: "audit".into(),
                    record_id: i.to_string(),
                    version: None,
                    fields: Default::default(),
                }
                .canonical()
            })
            .collect();
        let leaves: Vec<Hash> = entries.iter().map(|e| leaf_hash(e)).collect();
        let signer = NoteSigner::new("lantern.test/log", &[3; 32]).unwrap();
        let cp = Checkpoint {
            origin: "lantern.test/log".into(),
            size: 7,
            root: root(&leaves),
        };
        let proof = TlogProof {
            entry: entries[4].clone(),
            index: 4,
            hashes: inclusion_proof(&leaves, 4).unwrap(),
            checkpoint: signer.sign(&cp.body()),
        };
        (proof, NoteVerifier::parse(&signer.verifier_key()).unwrap())
    }

    #[test]
    fn round_trips_and_verifies() {
        let (proof, key) = setup();
        let text = proof.format();
        assert!(text.starts_with("c2sp.org/tlog-proof@v1\nextra "));
        let parsed = TlogProof::parse(&text).unwrap();
        assert_eq!(parsed, proof);
        let (cp, entry) = parsed.verify(&key).unwrap();
        assert_eq!((cp.size, entry.record_id.as_str()), (7, "4"));
    }

    #[test]
    fn each_kind_of_tampering_is_refused_with_its_reason() {
        let (proof, key) = setup();
        let mut other_entry = proof.clone();
        other_entry.entry = other_entry.entry.replace_slice(b"\"4\"", b"\"5\"");
        assert!(matches!(
            other_entry.verify(&key),
            Err(ProofFileError::Inclusion(ProofError::RootMismatch { .. }))
        ));
        let mut truncated = proof.clone();
        truncated.hashes.pop();
        assert!(matches!(
            truncated.verify(&key),
            Err(ProofFileError::Inclusion(ProofError::WrongProofLength { .. }))
        ));
        let mut moved = proof.clone();
        moved.index = 3;
        assert!(matches!(moved.verify(&key), Err(ProofFileError::Inclusion(_))));
        let mut resigned = proof.clone();
        resigned.checkpoint = resigned.checkpoint.replace("\n7\n", "\n8\n");
        assert!(matches!(
            resigned.verify(&key),
            Err(ProofFileError::Checkpoint(NoteError::BadSignature(_)))
        ));
        let other =
            NoteVerifier::parse(&NoteSigner::new("lantern.test/log", &[4; 32]).unwrap().verifier_key()).unwrap();
        assert!(matches!(
            proof.verify(&other),
            Err(ProofFileError::Checkpoint(NoteError::NoSignatureByKey(_)))
        ));
        assert!(TlogProof::parse(&proof.format().replacen("tlog-proof@v1", "tlog-proof@v2", 1)).is_err());
        assert!(TlogProof::parse(&proof.format().replacen("index 4", "index 04", 1)).is_err());
    }

    trait ReplaceSlice {
        fn replace_slice(&self, from: &[u8], to: &[u8]) -> Vec<u8>;
    }

    impl ReplaceSlice for Vec<u8> {
        fn replace_slice(&self, from: &[u8], to: &[u8]) -> Vec<u8> {
            let at = self.windows(from.len()).position(|w| w == from).expect("present");
            [&self[..at], to, &self[at + from.len()..]].concat()
        }
    }
}
