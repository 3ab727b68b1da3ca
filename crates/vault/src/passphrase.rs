//! Sealing with a passphrase, for what leaves the machine with a backup
//! (the key files): the key is derived with Argon2id (RFC 9106) from the
//! passphrase and a random salt, and the content sealed with
//! XChaCha20-Poly1305.
//!
//! Format: `"LNTNPP1\n"` (8 bytes) ‖ Argon2 memory in KiB (u32 BE) ‖
//! iterations (u32 BE) ‖ lanes (u32 BE) ‖ salt (16) ‖ nonce (24) ‖
//! ciphertext+tag. The parameters travel with the file so they can be
//! raised later without breaking old backups; the header is the associated
//! data, so a changed parameter makes the file fail to open.

use argon2::{Algorithm, Argon2, Params, Version};
use chacha20poly1305::aead::{Aead, KeyInit, Payload};
use chacha20poly1305::{XChaCha20Poly1305, XNonce};
use zeroize::Zeroizing;

use crate::{random_bytes, VaultError};

const MAGIC: &[u8; 8] = b"LNTNPP1\n";
const SALT_LEN: usize = 16;
const NONCE_LEN: usize = 24;
const HEADER_LEN: usize = 8 + 12 + SALT_LEN + NONCE_LEN;

/// Argon2id cost: 64 MiB, 3 passes, 1 lane (the "second recommended"
/// setting of RFC 9106, section 4, with a smaller memory for field laptops).
const MEMORY_KIB: u32 = 64 * 1024;
const ITERATIONS: u32 = 3;
const LANES: u32 = 1;
/// Largest cost accepted from a file, so a forged header cannot make a
/// restore exhaust the machine.
const MAX_MEMORY_KIB: u32 = 4 * 1024 * 1024;
const MAX_ITERATIONS: u32 = 100;

fn derive(
    passphrase: &str,
    salt: &[u8],
    memory: u32,
    iterations: u32,
    lanes: u32,
) -> Result<Zeroizing<[u8; 32]>, VaultError> {
    if memory > MAX_MEMORY_KIB || iterations > MAX_ITERATIONS || lanes == 0 || lanes > 16 {
        return Err(VaultError::Malformed);
    }
    let params = Params::new(memory, iterations, lanes, Some(32)).map_err(|_| VaultError::Malformed)?;
    let mut key = Zeroizing::new([0u8; 32]);
    Argon2::new(Algorithm::Argon2id, Version::V0x13, params)
        .hash_password_into(passphrase.as_bytes(), salt, key.as_mut())
        .map_err(|_| VaultError::Malformed)?;
    Ok(key)
}

/// Seals `plaintext` under `passphrase`.
pub fn seal(passphrase: &str, plaintext: &[u8]) -> Result<Vec<u8>, VaultError> {
    let mut header = Vec::with_capacity(HEADER_LEN);
    header.extend_from_slice(MAGIC);
    for n in [MEMORY_KIB, ITERATIONS, LANES] {
        header.extend_from_slice(&n.to_be_bytes());
    }
    let mut salt = [0u8; SALT_LEN];
    random_bytes(&mut salt)?;
    let mut nonce = [0u8; NONCE_LEN];
    random_bytes(&mut nonce)?;
    header.extend_from_slice(&salt);
    header.extend_from_slice(&nonce);
    let key = derive(passphrase, &salt, MEMORY_KIB, ITERATIONS, LANES)?;
    let ct = XChaCha20Poly1305::new(key.as_ref().into())
        .encrypt(
            XNonce::from_slice(&nonce),
            Payload {
                msg: plaintext,
                aad: &header,
            },
        )
        .map_err(|_| VaultError::Malformed)?;
    header.extend_from_slice(&ct);
    Ok(header)
}

/// Opens what [`seal`] sealed; a wrong passphrase or any altered byte is
/// [`VaultError::Tampered`].
pub fn open(passphrase: &str, sealed: &[u8]) -> Result<Zeroizing<Vec<u8>>, VaultError> {
    if sealed.len() < HEADER_LEN + 16 || &sealed[..8] != MAGIC {
        return Err(VaultError::Malformed);
    }
    let number = |at: usize| u32::from_be_bytes([sealed[at], sealed[at + 1], sealed[at + 2], sealed[at + 3]]);
    let (memory, iterations, lanes) = (number(8), number(12), number(16));
    let salt = &sealed[20..20 + SALT_LEN];
    let nonce = &sealed[20 + SALT_LEN..HEADER_LEN];
    let key = derive(passphrase, salt, memory, iterations, lanes)?;
    XChaCha20Poly1305::new(key.as_ref().into())
        .decrypt(
            XNonce::from_slice(nonce),
            Payload {
                msg: &sealed[HEADER_LEN..],
                aad: &sealed[..HEADER_LEN],
            },
        )
        .map(Zeroizing::new)
        .map_err(|_| VaultError::Tampered)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn round_trip_and_refusals() {
        let sealed = seal("correct horse battery staple", b"master key bytes").unwrap();
        assert_eq!(
            &open("correct horse battery staple", &sealed).unwrap()[..],
            b"master key bytes"
        );
        assert!(!sealed.windows(10).any(|w| w == b"master key"));
        assert!(matches!(open("another passphrase", &sealed), Err(VaultError::Tampered)));
        // A lowered cost in the header is detected, not obeyed.
        let mut weaker = sealed.clone();
        weaker[15] = 1;
        assert!(matches!(
            open("correct horse battery staple", &weaker),
            Err(VaultError::Tampered)
        ));
        // A forged, enormous cost is refused before any work.
        let mut forged = sealed.clone();
        forged[8..12].copy_from_slice(&u32::MAX.to_be_bytes());
        assert!(matches!(
            open("correct horse battery staple", &forged),
            Err(VaultError::Malformed)
        ));
        assert!(matches!(open("x", b"short"), Err(VaultError::Malformed)));
    }
}
