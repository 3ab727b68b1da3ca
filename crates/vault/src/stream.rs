//! The encrypted form of an evidence object: XChaCha20-Poly1305 in the
//! STREAM construction (Hoang, Reyhanitabar, Rogaway, Vizár, "Online
//! Authenticated-Encryption and its Nonce-Reuse Misuse-Resistance", 2015),
//! as the `aead` crate provides it (`StreamBE32`: the last five bytes of the
//! nonce are a 32-bit big-endian chunk counter and a last-chunk flag).
//!
//! Layout of a stored object:
//!
//! ```text
//! magic "LNTNOBJ1" (8) ‖ nonce prefix (19) ‖ chunk₀ ‖ chunk₁ ‖ … ‖ chunkₙ
//! ```
//!
//! Every chunk but the last holds exactly [`CHUNK`] bytes of plaintext plus a
//! 16-byte tag; the last holds 0 to [`CHUNK`] bytes and is sealed with the
//! last-chunk flag, so a truncated object (even one cut at a chunk boundary)
//! does not open. The 27-byte header is every chunk's associated data. Each
//! object has its own random data key, so chunks cannot be moved between
//! objects either.
//!
//! The sealer and opener here do no I/O; [`crate::objects`] feeds them.

use chacha20poly1305::aead::stream::{NewStream, StreamBE32, StreamPrimitive};
use chacha20poly1305::aead::KeyInit;
use chacha20poly1305::XChaCha20Poly1305;
use zeroize::Zeroizing;

use crate::{random_bytes, VaultError};

/// Plaintext bytes per chunk.
pub const CHUNK: usize = 64 * 1024;
/// Bytes the tag adds to each chunk.
pub const TAG: usize = 16;
/// Identifies the format (and its version).
pub const MAGIC: &[u8; 8] = b"LNTNOBJ1";
/// Bytes of the random nonce prefix.
const PREFIX: usize = 19;
/// Bytes of the header (magic and nonce prefix).
pub const HEADER: usize = MAGIC.len() + PREFIX;

/// The stored size of an object with `plain` bytes of plaintext.
pub fn sealed_len(plain: u64) -> u64 {
    let full = plain / CHUNK as u64;
    // The last chunk always exists, possibly empty.
    HEADER as u64 + plain + (full + 1) * TAG as u64
}

/// A random data key for one object.
pub fn new_data_key() -> Result<Zeroizing<[u8; 32]>, VaultError> {
    let mut key = Zeroizing::new([0u8; 32]);
    random_bytes(key.as_mut())?;
    Ok(key)
}

fn primitive(key: &[u8; 32], prefix: &[u8]) -> StreamBE32<XChaCha20Poly1305> {
    StreamBE32::from_aead(XChaCha20Poly1305::new(key.into()), prefix.into())
}

/// Seals plaintext chunk by chunk. Chunks are numbered by the caller, so
/// independent chunks may be sealed on several threads.
pub struct Sealer {
    stream: StreamBE32<XChaCha20Poly1305>,
    header: [u8; HEADER],
}

impl Sealer {
    /// A sealer with a fresh nonce prefix under `key`.
    pub fn new(key: &[u8; 32]) -> Result<Self, VaultError> {
        let mut header = [0u8; HEADER];
        header[..MAGIC.len()].copy_from_slice(MAGIC);
        random_bytes(&mut header[MAGIC.len()..])?;
        Ok(Sealer {
            stream: primitive(key, &header[MAGIC.len()..]),
            header,
        })
    }

    /// The object's first bytes.
    pub fn header(&self) -> &[u8; HEADER] {
        &self.header
    }

    /// Seals chunk number `index` in place (`buf` holds at most [`CHUNK`]
    /// bytes of plaintext and grows by [`TAG`]).
    pub fn seal(&self, index: u32, last: bool, buf: &mut Vec<u8>) -> Result<(), VaultError> {
        debug_assert!(buf.len() <= CHUNK);
        self.stream
            .encrypt_in_place(index, last, &self.header, buf)
            .map_err(|_| VaultError::TooLarge)
    }
}

/// Opens an object as its bytes arrive, in order.
pub struct Opener {
    stream: Option<StreamBE32<XChaCha20Poly1305>>,
    key: Zeroizing<[u8; 32]>,
    header: Vec<u8>,
    pending: Vec<u8>,
    index: u32,
    finished: bool,
}

impl Opener {
    /// An opener for an object sealed under `key`.
    pub fn new(key: Zeroizing<[u8; 32]>) -> Self {
        Opener {
            stream: None,
            key,
            header: Vec::with_capacity(HEADER),
            pending: Vec::with_capacity(CHUNK + TAG),
            index: 0,
            finished: false,
        }
    }

    /// Takes the next stored bytes; returns the plaintext of every chunk
    /// now known not to be the last. A chunk is only released once it is
    /// authenticated.
    pub fn push(&mut self, mut bytes: &[u8]) -> Result<Vec<u8>, VaultError> {
        if self.header.len() < HEADER {
            let take = (HEADER - self.header.len()).min(bytes.len());
            self.header.extend_from_slice(&bytes[..take]);
            bytes = &bytes[take..];
            if self.header.len() == HEADER {
                if &self.header[..MAGIC.len()] != MAGIC {
                    return Err(VaultError::Malformed);
                }
                self.stream = Some(primitive(&self.key, &self.header[MAGIC.len()..]));
            }
        }
        let mut out = Vec::new();
        while !bytes.is_empty() {
            // A full chunk is only opened when more bytes follow it: until
            // then it could be the last one.
            if self.pending.len() == CHUNK + TAG {
                self.open_pending(false, &mut out)?;
            }
            let take = (CHUNK + TAG - self.pending.len()).min(bytes.len());
            self.pending.extend_from_slice(&bytes[..take]);
            bytes = &bytes[take..];
        }
        Ok(out)
    }

    fn open_pending(&mut self, last: bool, out: &mut Vec<u8>) -> Result<(), VaultError> {
        let stream = self.stream.as_ref().ok_or(VaultError::Malformed)?;
        stream
            .decrypt_in_place(self.index, last, &self.header, &mut self.pending)
            .map_err(|_| VaultError::Tampered)?;
        out.extend_from_slice(&self.pending);
        self.pending.clear();
        self.index = self.index.checked_add(1).ok_or(VaultError::Malformed)?;
        Ok(())
    }

    /// The end of the object: opens the last chunk, which must carry the
    /// last-chunk flag.
    pub fn finish(&mut self) -> Result<Vec<u8>, VaultError> {
        if self.finished {
            return Ok(Vec::new());
        }
        if self.header.len() < HEADER || self.pending.len() < TAG {
            return Err(VaultError::Tampered);
        }
        let mut out = Vec::new();
        self.open_pending(true, &mut out)?;
        self.finished = true;
        Ok(out)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn seal_all(key: &[u8; 32], plain: &[u8]) -> Vec<u8> {
        let s = Sealer::new(key).unwrap();
        let mut out = s.header().to_vec();
        let chunks: Vec<&[u8]> = if plain.is_empty() {
            vec![&[]]
        } else {
            let mut c: Vec<&[u8]> = plain.chunks(CHUNK).collect();
            if plain.len().is_multiple_of(CHUNK) {
                c.push(&[]);
            }
            c
        };
        let n = chunks.len();
        for (i, c) in chunks.into_iter().enumerate() {
            let mut buf = c.to_vec();
            s.seal(i as u32, i + 1 == n, &mut buf).unwrap();
            out.extend_from_slice(&buf);
        }
        out
    }

    fn open_all(key: &[u8; 32], sealed: &[u8], step: usize) -> Result<Vec<u8>, VaultError> {
        let mut o = Opener::new(Zeroizing::new(*key));
        let mut out = Vec::new();
        for piece in sealed.chunks(step.max(1)) {
            out.extend(o.push(piece)?);
        }
        out.extend(o.finish()?);
        Ok(out)
    }

    #[test]
    fn round_trips_at_every_boundary_and_read_size() {
        let key = *new_data_key().unwrap();
        for len in [0, 1, CHUNK - 1, CHUNK, CHUNK + 1, 3 * CHUNK, 3 * CHUNK + 7] {
            let plain: Vec<u8> = (0..len).map(|i| (i * 31 % 251) as u8).collect();
            let sealed = seal_all(&key, &plain);
            assert_eq!(sealed.len() as u64, sealed_len(len as u64), "length {len}");
            for step in [1usize, 1000, CHUNK + TAG, 1 << 20] {
                if step == 1 && len > CHUNK {
                    continue;
                }
                assert_eq!(
                    open_all(&key, &sealed, step).unwrap(),
                    plain,
                    "length {len} step {step}"
                );
            }
        }
    }

    #[test]
    fn refuses_flips_truncation_reordering_and_another_key() {
        let key = *new_data_key().unwrap();
        let plain = vec![7u8; 2 * CHUNK + 5];
        let sealed = seal_all(&key, &plain);
        for at in [0, 9, HEADER + 3, HEADER + CHUNK + TAG + 1, sealed.len() - 1] {
            let mut bad = sealed.clone();
            bad[at] ^= 0x40;
            assert!(open_all(&key, &bad, 4096).is_err(), "flip at {at} accepted");
        }
        // Cut after a whole chunk: what remains is authentic but not last.
        let cut = &sealed[..HEADER + CHUNK + TAG];
        assert!(matches!(open_all(&key, cut, 4096), Err(VaultError::Tampered)));
        assert!(open_all(&key, &sealed[..HEADER], 4096).is_err());
        let mut swapped = sealed[..HEADER].to_vec();
        swapped.extend_from_slice(&sealed[HEADER + CHUNK + TAG..HEADER + 2 * (CHUNK + TAG)]);
        swapped.extend_from_slice(&sealed[HEADER..HEADER + CHUNK + TAG]);
        swapped.extend_from_slice(&sealed[HEADER + 2 * (CHUNK + TAG)..]);
        assert!(open_all(&key, &swapped, 4096).is_err());
        let other = *new_data_key().unwrap();
        assert!(open_all(&other, &sealed, 4096).is_err());
    }
}
