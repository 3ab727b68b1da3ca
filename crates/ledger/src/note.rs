//! Signed checkpoints: the C2SP `tlog-checkpoint` body signed as a C2SP
//! `signed-note` with Ed25519.
//!
//! A checkpoint body is three lines: the log's origin, the tree size in
//! decimal, the root hash in standard base64; each ends with a newline. A
//! signed note is the body, an empty line, and one signature line per signer:
//! `— NAME BASE64(KEYID ‖ SIGNATURE)`, where the key id is the first four
//! bytes of `SHA-256(NAME ‖ 0x0A ‖ 0x01 ‖ PUBLIC KEY)` (0x01 names Ed25519)
//! and the signature covers the body exactly. The verifier key is written
//! `NAME+KEYID-HEX+BASE64(0x01 ‖ PUBLIC KEY)`.

use base64::engine::general_purpose::STANDARD as B64;
use base64::Engine;
use ed25519_dalek::{Signature, Signer, SigningKey, Verifier, VerifyingKey};
use sha2::{Digest, Sha256};

use crate::Hash;

/// The signature algorithm byte of Ed25519 in signed notes.
const ED25519: u8 = 0x01;

/// A tree head: origin, size, root.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Checkpoint {
    /// The log's name (its "origin"), e.g. `lantern.example/registry`.
    pub origin: String,
    /// Number of entries.
    pub size: u64,
    /// Root hash of the tree of that size.
    pub root: Hash,
}

impl Checkpoint {
    /// The note body (C2SP tlog-checkpoint, without extension lines).
    pub fn body(&self) -> String {
        format!("{}\n{}\n{}\n", self.origin, self.size, B64.encode(self.root))
    }

    /// Parses a note body.
    pub fn parse_body(body: &str) -> Result<Checkpoint, NoteError> {
        let mut lines = body.split('\n');
        let origin = lines
            .next()
            .filter(|o| !o.is_empty())
            .ok_or(NoteError::Malformed("origin line"))?;
        let size = lines.next().ok_or(NoteError::Malformed("size line"))?;
        // Decimal without sign or leading zeros, as the specification requires.
        if size.is_empty() || (size.len() > 1 && size.starts_with('0')) || !size.bytes().all(|b| b.is_ascii_digit()) {
            return Err(NoteError::Malformed("size line"));
        }
        let size: u64 = size.parse().map_err(|_| NoteError::Malformed("size line"))?;
        let root = B64
            .decode(lines.next().ok_or(NoteError::Malformed("root line"))?)
            .map_err(|_| NoteError::Malformed("root line"))?;
        let root: Hash = root.try_into().map_err(|_| NoteError::Malformed("root hash length"))?;
        Ok(Checkpoint {
            origin: origin.to_string(),
            size,
            root,
        })
    }
}

/// Problems with notes and keys.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum NoteError {
    /// A part of the note or key is not in the expected form.
    #[error("malformed {0}")]
    Malformed(&'static str),
    /// No signature line by the given key.
    #[error("the note carries no signature by key {0}")]
    NoSignatureByKey(String),
    /// A signature by the key is present but does not verify.
    #[error("the signature by key {0} does not verify: the note was altered or signed by another key")]
    BadSignature(String),
}

/// The key id of a signer (first four bytes of the hash of name and key).
pub fn key_id(name: &str, public: &VerifyingKey) -> [u8; 4] {
    let mut h = Sha256::new();
    h.update(name.as_bytes());
    h.update([0x0A, ED25519]);
    h.update(public.as_bytes());
    let d = h.finalize();
    [d[0], d[1], d[2], d[3]]
}

/// A log's signing key with its name.
pub struct NoteSigner {
    name: String,
    key: SigningKey,
}

impl std::fmt::Debug for NoteSigner {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("NoteSigner").field("name", &self.name).finish()
    }
}

impl NoteSigner {
    /// A signer from a 32-byte Ed25519 seed.
    pub fn new(name: &str, seed: &[u8; 32]) -> Result<NoteSigner, NoteError> {
        if name.is_empty() || name.contains(['+', ' ', '\n']) {
            return Err(NoteError::Malformed("key name"));
        }
        Ok(NoteSigner {
            name: name.to_string(),
            key: SigningKey::from_bytes(seed),
        })
    }

    /// The key's name (the log's origin).
    pub fn name(&self) -> &str {
        &self.name
    }

    /// The verifier key in `name+hexid+base64` form.
    pub fn verifier_key(&self) -> String {
        let public = self.key.verifying_key();
        let mut key = vec![ED25519];
        key.extend_from_slice(public.as_bytes());
        format!(
            "{}+{}+{}",
            self.name,
            key_id(&self.name, &public)
                .iter()
                .map(|b| format!("{b:02x}"))
                .collect::<String>(),
            B64.encode(key)
        )
    }

    /// Signs a note body: returns the whole signed note.
    pub fn sign(&self, body: &str) -> String {
        let signature = self.key.sign(body.as_bytes());
        let mut blob = key_id(&self.name, &self.key.verifying_key()).to_vec();
        blob.extend_from_slice(&signature.to_bytes());
        format!("{body}\n\u{2014} {} {}\n", self.name, B64.encode(blob))
    }
}

/// A verifier key parsed from `name+hexid+base64`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NoteVerifier {
    /// The signer's name.
    pub name: String,
    /// The key id.
    pub id: [u8; 4],
    key: VerifyingKey,
}

impl NoteVerifier {
    /// Parses a verifier key and checks that its id matches its name and key.
    pub fn parse(text: &str) -> Result<NoteVerifier, NoteError> {
        let mut parts = text.trim().splitn(3, '+');
        let (Some(name), Some(id_hex), Some(key_b64)) = (parts.next(), parts.next(), parts.next()) else {
            return Err(NoteError::Malformed("verifier key"));
        };
        let key = B64.decode(key_b64).map_err(|_| NoteError::Malformed("verifier key"))?;
        if key.len() != 33 || key[0] != ED25519 || id_hex.len() != 8 {
            return Err(NoteError::Malformed("verifier key"));
        }
        let public: [u8; 32] = key[1..].try_into().map_err(|_| NoteError::Malformed("verifier key"))?;
        let key = VerifyingKey::from_bytes(&public).map_err(|_| NoteError::Malformed("verifier key"))?;
        let id = key_id(name, &key);
        let hex: String = id.iter().map(|b| format!("{b:02x}")).collect();
        if hex != id_hex.to_ascii_lowercase() {
            return Err(NoteError::Malformed("verifier key id"));
        }
        Ok(NoteVerifier {
            name: name.to_string(),
            id,
            key,
        })
    }

    /// Checks a signed note and returns its body. Other signers' lines are
    /// ignored; this key's line must be present and valid.
    pub fn verify<'a>(&self, note: &'a str) -> Result<&'a str, NoteError> {
        let split = note
            .rfind("\n\n")
            .ok_or(NoteError::Malformed("note: no signature block"))?;
        let body = &note[..split + 1];
        let signatures = &note[split + 2..];
        let mut found = false;
        for line in signatures.lines() {
            let Some(rest) = line.strip_prefix("\u{2014} ") else {
                return Err(NoteError::Malformed("signature line"));
            };
            let (name, blob) = rest.rsplit_once(' ').ok_or(NoteError::Malformed("signature line"))?;
            let blob = B64.decode(blob).map_err(|_| NoteError::Malformed("signature line"))?;
            if name != self.name || blob.len() < 4 || blob[..4] != self.id {
                continue;
            }
            found = true;
            let sig: [u8; 64] = blob[4..]
                .try_into()
                .map_err(|_| NoteError::BadSignature(self.name.clone()))?;
            self.key
                .verify(body.as_bytes(), &Signature::from_bytes(&sig))
                .map_err(|_| NoteError::BadSignature(self.name.clone()))?;
        }
        if !found {
            return Err(NoteError::NoSignatureByKey(self.name.clone()));
        }
        Ok(body)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn signer() -> NoteSigner {
        NoteSigner::new("lantern.test/log", &[7u8; 32]).unwrap()
    }

    #[test]
    fn checkpoint_round_trip_and_signature() {
        let c = Checkpoint {
            origin: "lantern.test/log".into(),
            size: 42,
            root: [9u8; 32],
        };
        let note = signer().sign(&c.body());
        assert!(note.starts_with("lantern.test/log\n42\nCQkJ"));
        assert!(note.contains("\n\n\u{2014} lantern.test/log "));
        let v = NoteVerifier::parse(&signer().verifier_key()).unwrap();
        let body = v.verify(&note).unwrap();
        assert_eq!(Checkpoint::parse_body(body).unwrap(), c);
    }

    #[test]
    fn detects_altered_notes_and_other_keys() {
        let c = Checkpoint {
            origin: "lantern.test/log".into(),
            size: 42,
            root: [9u8; 32],
        };
        let note = signer().sign(&c.body());
        let v = NoteVerifier::parse(&signer().verifier_key()).unwrap();
        let altered = note.replace("\n42\n", "\n43\n");
        assert_eq!(
            v.verify(&altered),
            Err(NoteError::BadSignature("lantern.test/log".into()))
        );
        let other = NoteSigner::new("lantern.test/log", &[8u8; 32]).unwrap();
        let by_other = other.sign(&c.body());
        assert_eq!(
            v.verify(&by_other),
            Err(NoteError::NoSignatureByKey("lantern.test/log".into()))
        );
        let mut key = signer().verifier_key();
        key.replace_range(17..19, "00");
        assert!(NoteVerifier::parse(&key).is_err(), "key id must match");
    }

    #[test]
    fn strict_body_parsing() {
        assert!(Checkpoint::parse_body("o\n012\nCQkJCQkJCQkJCQkJCQkJCQkJCQkJCQkJCQkJCQkJCQk=\n").is_err());
        assert!(Checkpoint::parse_body("o\n-1\nAAAA\n").is_err());
        assert!(Checkpoint::parse_body("o\n1\nAAAA\n").is_err(), "root must be 32 bytes");
    }
}
