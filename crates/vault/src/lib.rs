//! Lantern's keys and field encryption.
//!
//! Protected record fields (identity documents, contact details, notes) are
//! sealed with XChaCha20-Poly1305 (draft-irtf-cfrg-xchacha, 24-byte random
//! nonces, so random nonces never collide in practice). Keys form a small
//! hierarchy: a 256-bit *master key* per generation, and from it one key per
//! purpose derived with HKDF-SHA-256 (RFC 5869), so a key used for one kind
//! of field can never decrypt another.
//!
//! Every sealed value carries the generation of the master key that sealed
//! it, so a new generation can be added (rotation) while old values stay
//! readable and are re-sealed in the background. A keyring loaded from a
//! file notices a generation added to the file by another process (`lantern
//! keys rotate`): a value sealed under a generation it does not know makes
//! it read the file again, and it checks the file for a newer generation to
//! seal with every [`REFRESH`], so running servers follow a rotation without
//! a restart.
//!
//! The sealed form is `v1 ‖ generation (u32, big endian) ‖ nonce (24) ‖
//! ciphertext+tag`. The associated data binds the value to its place (for
//! example `person/<id>/protected`): a sealed value copied into another row
//! does not open.

pub mod objects;
pub mod passphrase;
pub mod stream;

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::sync::{Mutex, RwLock};
use std::time::{Duration, Instant, SystemTime};

use chacha20poly1305::aead::{Aead, KeyInit, Payload};
use chacha20poly1305::{XChaCha20Poly1305, XNonce};
use hkdf::Hkdf;
use sha2::Sha256;
use zeroize::Zeroizing;

const VERSION: u8 = 1;
const NONCE_LEN: usize = 24;
const HEADER_LEN: usize = 1 + 4 + NONCE_LEN;

/// What can go wrong with keys and sealed values.
#[derive(Debug, thiserror::Error)]
pub enum VaultError {
    /// The sealed value was altered, is bound to another place, or the key is wrong.
    #[error("the sealed value does not open: altered, moved or sealed under another key")]
    Tampered,
    /// The sealed value is shorter than its header or of an unknown version.
    #[error("the sealed value is malformed")]
    Malformed,
    /// The generation named by a sealed value is not in the keyring.
    #[error("master key generation {0} is not in the keyring (was a key file lost?)")]
    UnknownGeneration(u32),
    /// A key file could not be read or written.
    #[error("key file {path}: {source}")]
    Io {
        /// The file.
        path: String,
        /// The cause.
        source: std::io::Error,
    },
    /// A key file's content is not a key.
    #[error("key file {path}: line {line} is not a generation and a 64-digit hex key")]
    BadKeyFile {
        /// The file.
        path: String,
        /// The line.
        line: usize,
    },
    /// More chunks than the stream format can number (256 TiB).
    #[error("the object is too large for the stream format")]
    TooLarge,
    /// The generation that seals new values cannot be retired.
    #[error("generation {0} seals new values; rotate first")]
    CurrentGeneration(u32),
    /// The operating system's random source failed.
    #[error("no randomness available: {0}")]
    Random(String),
}

/// Compares two strings in time independent of where they differ (for
/// secrets and their hashes).
pub fn constant_time_eq(a: &str, b: &str) -> bool {
    let (a, b) = (a.as_bytes(), b.as_bytes());
    a.len() == b.len() && a.iter().zip(b).fold(0u8, |acc, (x, y)| acc | (x ^ y)) == 0
}

/// Fills `buf` with random bytes from the operating system.
pub fn random_bytes(buf: &mut [u8]) -> Result<(), VaultError> {
    getrandom::getrandom(buf).map_err(|e| VaultError::Random(e.to_string()))
}

/// How often a keyring loaded from a file looks for a newer generation.
pub const REFRESH: Duration = Duration::from_secs(10);

type Masters = BTreeMap<u32, Zeroizing<[u8; 32]>>;

/// A key file and, behind a lock, when it was last checked and the
/// modification time it had then.
struct KeyFile {
    path: PathBuf,
    checked: Mutex<(Instant, Option<SystemTime>)>,
}

/// The master keys, by generation; the highest generation seals new values.
pub struct Keyring {
    masters: RwLock<Masters>,
    /// The key file it was loaded from, and when it was last checked and
    /// modified.
    file: Option<KeyFile>,
}

impl std::fmt::Debug for Keyring {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Keyring")
            .field("generations", &self.generations())
            .finish()
    }
}

fn modified(path: &Path) -> Option<SystemTime> {
    std::fs::metadata(path).and_then(|m| m.modified()).ok()
}

impl Keyring {
    /// A keyring with one freshly generated master key (generation 1).
    pub fn generate() -> Result<Self, VaultError> {
        let mut key = Zeroizing::new([0u8; 32]);
        random_bytes(key.as_mut())?;
        let mut masters = BTreeMap::new();
        masters.insert(1, key);
        Ok(Keyring {
            masters: RwLock::new(masters),
            file: None,
        })
    }

    fn read_masters(&self) -> std::sync::RwLockReadGuard<'_, Masters> {
        self.masters.read().unwrap_or_else(|e| e.into_inner())
    }

    /// Adds a new generation and makes it the one that seals; returns it.
    /// (Save the keyring to make it last.)
    pub fn rotate(&self) -> Result<u32, VaultError> {
        let mut key = Zeroizing::new([0u8; 32]);
        random_bytes(key.as_mut())?;
        let mut masters = self.masters.write().unwrap_or_else(|e| e.into_inner());
        let next = masters.keys().next_back().copied().unwrap_or(0) + 1;
        masters.insert(next, key);
        Ok(next)
    }

    /// Removes a generation no value needs any more. The one that seals
    /// cannot be removed.
    pub fn retire(&self, generation: u32) -> Result<(), VaultError> {
        let mut masters = self.masters.write().unwrap_or_else(|e| e.into_inner());
        if masters.keys().next_back() == Some(&generation) {
            return Err(VaultError::CurrentGeneration(generation));
        }
        masters
            .remove(&generation)
            .map(|_| ())
            .ok_or(VaultError::UnknownGeneration(generation))
    }

    /// The generations held, oldest first.
    pub fn generations(&self) -> Vec<u32> {
        self.read_masters().keys().copied().collect()
    }

    /// The generation that seals new values.
    pub fn current_generation(&self) -> u32 {
        self.refresh(false);
        self.read_masters().keys().next_back().copied().unwrap_or(0)
    }

    /// Reads the key file again if it changed (or, with `now`, whatever
    /// the time since the last check), keeping every generation already
    /// held. Errors are left for the next check: the keys in memory stay.
    fn refresh(&self, now: bool) {
        let Some(KeyFile { path, checked }) = &self.file else {
            return;
        };
        let mut checked = checked.lock().unwrap_or_else(|e| e.into_inner());
        if !now && checked.0.elapsed() < REFRESH {
            return;
        }
        checked.0 = Instant::now();
        let stamp = modified(path);
        if !now && stamp == checked.1 {
            return;
        }
        if let Ok(fresh) = Self::read_file(path) {
            checked.1 = stamp;
            let mut masters = self.masters.write().unwrap_or_else(|e| e.into_inner());
            for (generation, key) in fresh {
                masters.entry(generation).or_insert(key);
            }
        }
    }

    /// Reads a key file: one `generation hexkey` per line, `#` comments.
    pub fn load(path: &Path) -> Result<Self, VaultError> {
        let masters = Self::read_file(path)?;
        Ok(Keyring {
            masters: RwLock::new(masters),
            file: Some(KeyFile {
                path: path.to_path_buf(),
                checked: Mutex::new((Instant::now(), modified(path))),
            }),
        })
    }

    fn read_file(path: &Path) -> Result<Masters, VaultError> {
        let shown = path.display().to_string();
        let text = Zeroizing::new(std::fs::read_to_string(path).map_err(|source| VaultError::Io {
            path: shown.clone(),
            source,
        })?);
        let mut masters = BTreeMap::new();
        for (i, line) in text.lines().enumerate() {
            let line = line.trim();
            if line.is_empty() || line.starts_with('#') {
                continue;
            }
            let bad = || VaultError::BadKeyFile {
                path: shown.clone(),
                line: i + 1,
            };
            let (generation, hex_key) = line.split_once(' ').ok_or_else(bad)?;
            let generation: u32 = generation.parse().map_err(|_| bad())?;
            let hex_key = hex_key.trim();
            if hex_key.len() != 64 {
                return Err(bad());
            }
            let mut key = Zeroizing::new([0u8; 32]);
            for (j, byte) in key.iter_mut().enumerate() {
                *byte = u8::from_str_radix(&hex_key[2 * j..2 * j + 2], 16).map_err(|_| bad())?;
            }
            masters.insert(generation, key);
        }
        if masters.is_empty() {
            return Err(VaultError::BadKeyFile { path: shown, line: 0 });
        }
        Ok(masters)
    }

    /// Writes the key file (mode 0600 on Unix), replacing it atomically.
    pub fn save(&self, path: &Path) -> Result<(), VaultError> {
        let io = |source| VaultError::Io {
            path: path.display().to_string(),
            source,
        };
        let mut text = Zeroizing::new(String::from(
            "# Lantern master keys: generation, then the key in hex.\n\
             # Losing this file makes every protected field unreadable: back it up\n\
             # offline, apart from the database backups (see docs/operations.md).\n",
        ));
        for (generation, key) in self.read_masters().iter() {
            text.push_str(&format!("{generation} "));
            for b in key.iter() {
                text.push_str(&format!("{b:02x}"));
            }
            text.push('\n');
        }
        let tmp = path.with_extension("tmp");
        write_private(&tmp, text.as_bytes()).map_err(io)?;
        std::fs::rename(&tmp, path).map_err(io)
    }

    /// The key for one purpose, derived from a generation's master key. A
    /// generation not held makes a keyring loaded from a file read it again
    /// (another process may have rotated the keys).
    fn purpose_key(&self, generation: u32, purpose: &str) -> Result<Zeroizing<[u8; 32]>, VaultError> {
        if !self.read_masters().contains_key(&generation) {
            self.refresh(true);
        }
        let masters = self.read_masters();
        let master = masters
            .get(&generation)
            .ok_or(VaultError::UnknownGeneration(generation))?;
        let hk = Hkdf::<Sha256>::new(Some(b"lantern field keys v1"), master.as_ref());
        let mut out = Zeroizing::new([0u8; 32]);
        hk.expand(purpose.as_bytes(), out.as_mut())
            .map_err(|_| VaultError::Malformed)?;
        Ok(out)
    }

    /// Seals `plaintext` for `purpose`, bound to `place` (associated data).
    pub fn seal(&self, purpose: &str, place: &str, plaintext: &[u8]) -> Result<Vec<u8>, VaultError> {
        let generation = self.current_generation();
        let key = self.purpose_key(generation, purpose)?;
        let cipher = XChaCha20Poly1305::new(key.as_ref().into());
        let mut nonce = [0u8; NONCE_LEN];
        random_bytes(&mut nonce)?;
        let ct = cipher
            .encrypt(
                XNonce::from_slice(&nonce),
                Payload {
                    msg: plaintext,
                    aad: place.as_bytes(),
                },
            )
            .map_err(|_| VaultError::Malformed)?;
        let mut out = Vec::with_capacity(HEADER_LEN + ct.len());
        out.push(VERSION);
        out.extend_from_slice(&generation.to_be_bytes());
        out.extend_from_slice(&nonce);
        out.extend_from_slice(&ct);
        Ok(out)
    }

    /// Opens a value sealed by [`Keyring::seal`] with the same purpose and place.
    pub fn open(&self, purpose: &str, place: &str, sealed: &[u8]) -> Result<Zeroizing<Vec<u8>>, VaultError> {
        if sealed.len() < HEADER_LEN + 16 || sealed[0] != VERSION {
            return Err(VaultError::Malformed);
        }
        let generation = u32::from_be_bytes([sealed[1], sealed[2], sealed[3], sealed[4]]);
        let key = self.purpose_key(generation, purpose)?;
        let cipher = XChaCha20Poly1305::new(key.as_ref().into());
        cipher
            .decrypt(
                XNonce::from_slice(&sealed[5..HEADER_LEN]),
                Payload {
                    msg: &sealed[HEADER_LEN..],
                    aad: place.as_bytes(),
                },
            )
            .map(Zeroizing::new)
            .map_err(|_| VaultError::Tampered)
    }

    /// The generation a sealed value was sealed under, to find values that
    /// still need re-sealing after a rotation.
    pub fn generation_of(sealed: &[u8]) -> Option<u32> {
        (sealed.len() >= HEADER_LEN && sealed[0] == VERSION)
            .then(|| u32::from_be_bytes([sealed[1], sealed[2], sealed[3], sealed[4]]))
    }
}

/// Writes a file readable only by its owner.
fn write_private(path: &Path, bytes: &[u8]) -> std::io::Result<()> {
    use std::io::Write;
    let mut options = std::fs::OpenOptions::new();
    options.write(true).create(true).truncate(true);
    #[cfg(unix)]
    {
        use std::os::unix::fs::OpenOptionsExt;
        options.mode(0o600);
    }
    let mut f = options.open(path)?;
    f.write_all(bytes)?;
    f.sync_all()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn seals_and_opens() {
        let k = Keyring::generate().unwrap();
        let s = k.seal("person", "person/1", b"passport K123").unwrap();
        assert_eq!(&k.open("person", "person/1", &s).unwrap()[..], b"passport K123");
        assert!(!s.windows(4).any(|w| w == b"K123"), "plaintext leaked");
    }

    #[test]
    fn refuses_tampering_moving_and_wrong_purpose() {
        let k = Keyring::generate().unwrap();
        let s = k.seal("person", "person/1", b"notes").unwrap();
        let mut flipped = s.clone();
        let last = flipped.len() - 1;
        flipped[last] ^= 1;
        assert!(matches!(
            k.open("person", "person/1", &flipped),
            Err(VaultError::Tampered)
        ));
        assert!(matches!(k.open("person", "person/2", &s), Err(VaultError::Tampered)));
        assert!(matches!(k.open("message", "person/1", &s), Err(VaultError::Tampered)));
        assert!(matches!(
            k.open("person", "person/1", &s[..10]),
            Err(VaultError::Malformed)
        ));
        let other = Keyring::generate().unwrap();
        assert!(matches!(
            other.open("person", "person/1", &s),
            Err(VaultError::Tampered)
        ));
    }

    #[test]
    fn rotation_keeps_old_values_readable() {
        let k = Keyring::generate().unwrap();
        let old = k.seal("person", "p", b"old").unwrap();
        assert_eq!(k.rotate().unwrap(), 2);
        let new = k.seal("person", "p", b"new").unwrap();
        assert_eq!(Keyring::generation_of(&old), Some(1));
        assert_eq!(Keyring::generation_of(&new), Some(2));
        assert_eq!(&k.open("person", "p", &old).unwrap()[..], b"old");
        assert_eq!(&k.open("person", "p", &new).unwrap()[..], b"new");
    }

    #[test]
    fn key_file_round_trip_and_errors() {
        let dir = std::env::temp_dir().join(format!("lantern-vault-test-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let path = dir.join("master.key");
        let k = Keyring::generate().unwrap();
        k.rotate().unwrap();
        k.save(&path).unwrap();
        let again = Keyring::load(&path).unwrap();
        let s = k.seal("person", "p", b"x").unwrap();
        assert_eq!(&again.open("person", "p", &s).unwrap()[..], b"x");
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            let mode = std::fs::metadata(&path).unwrap().permissions().mode();
            assert_eq!(mode & 0o077, 0, "key file readable by others");
        }
        std::fs::write(&path, "1 nothex\n").unwrap();
        assert!(matches!(
            Keyring::load(&path),
            Err(VaultError::BadKeyFile { line: 1, .. })
        ));
        std::fs::remove_dir_all(&dir).unwrap();
    }

    #[test]
    fn a_running_keyring_follows_a_rotation_made_by_another_process() {
        let dir = std::env::temp_dir().join(format!("lantern-vault-rotate-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let path = dir.join("master.key");
        Keyring::generate().unwrap().save(&path).unwrap();
        let server = Keyring::load(&path).unwrap();
        let old = server.seal("person", "p", b"before").unwrap();
        // Another process rotates and seals under the new generation.
        let cli = Keyring::load(&path).unwrap();
        assert_eq!(cli.rotate().unwrap(), 2);
        cli.save(&path).unwrap();
        let new = cli.seal("person", "p", b"after").unwrap();
        assert_eq!(Keyring::generation_of(&new), Some(2));
        // The server opens it at once, and old values still.
        assert_eq!(&server.open("person", "p", &new).unwrap()[..], b"after");
        assert_eq!(&server.open("person", "p", &old).unwrap()[..], b"before");
        assert_eq!(server.current_generation(), 2);
        // Retiring: never the current generation; an old one once unused.
        assert!(matches!(cli.retire(2), Err(VaultError::CurrentGeneration(2))));
        cli.retire(1).unwrap();
        cli.save(&path).unwrap();
        assert_eq!(Keyring::load(&path).unwrap().generations(), vec![2]);
        assert!(matches!(
            cli.open("person", "p", &old),
            Err(VaultError::UnknownGeneration(1))
        ));
        std::fs::remove_dir_all(&dir).unwrap();
    }
}
