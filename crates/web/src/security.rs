//! Secrets: password hashing (argon2id), random tokens, token hashing,
//! TOTP second factor (RFC 6238), and login throttling.

use std::collections::HashMap;
use std::sync::Mutex;

use argon2::password_hash::{PasswordHash, PasswordHasher, PasswordVerifier, SaltString};
use argon2::Argon2;
use base64::Engine;
use hmac::{Hmac, Mac};
use sha2::{Digest, Sha256};
use time::{Duration, OffsetDateTime};

/// Hashes a password with argon2id (RFC 9106) and the crate's default
/// parameters (19 MiB, 2 passes, 1 lane: the OWASP recommendation), as a
/// PHC string that records them.
pub fn hash_password(password: &str) -> Result<String, String> {
    let mut salt = [0u8; 16];
    getrandom::getrandom(&mut salt).map_err(|e| e.to_string())?;
    let salt = SaltString::encode_b64(&salt).map_err(|e| e.to_string())?;
    Argon2::default()
        .hash_password(password.as_bytes(), &salt)
        .map(|h| h.to_string())
        .map_err(|e| e.to_string())
}

/// Checks a password against a PHC string; false for any malformed hash.
pub fn verify_password(password: &str, phc: &str) -> bool {
    PasswordHash::new(phc)
        .map(|h| Argon2::default().verify_password(password.as_bytes(), &h).is_ok())
        .unwrap_or(false)
}

/// A hash to verify against when the user does not exist, so a login for
/// an unknown name takes as long as one for a known name.
pub fn dummy_hash() -> &'static str {
    static DUMMY: std::sync::OnceLock<String> = std::sync::OnceLock::new();
    DUMMY.get_or_init(|| hash_password("not a real password at all").unwrap_or_default())
}

/// A random token of 32 bytes, URL-safe base64 without padding.
pub fn random_token() -> String {
    let mut bytes = [0u8; 32];
    // The OS random source failing is not recoverable; a predictable token
    // would be far worse than a crash.
    getrandom::getrandom(&mut bytes).expect("operating system random source");
    base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(bytes)
}

/// SHA-256 of a token, hex: what the database stores instead of the token.
pub fn token_hash(token: &str) -> String {
    hex::encode(Sha256::digest(token.as_bytes()))
}

pub use lantern_vault::constant_time_eq;

/// RFC 4648 base32 alphabet, as authenticator apps expect TOTP secrets.
const B32: &[u8; 32] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZ234567";

/// Encodes bytes as unpadded base32.
pub fn base32_encode(bytes: &[u8]) -> String {
    let mut out = String::new();
    let (mut buffer, mut bits) = (0u32, 0);
    for &b in bytes {
        buffer = (buffer << 8) | u32::from(b);
        bits += 8;
        while bits >= 5 {
            out.push(B32[((buffer >> (bits - 5)) & 31) as usize] as char);
            bits -= 5;
        }
    }
    if bits > 0 {
        out.push(B32[((buffer << (5 - bits)) & 31) as usize] as char);
    }
    out
}

/// A new TOTP secret (160 bits, as RFC 4226 recommends for HMAC-SHA-1).
pub fn new_totp_secret() -> Vec<u8> {
    let mut s = vec![0u8; 20];
    getrandom::getrandom(&mut s).expect("operating system random source");
    s
}

/// The 6-digit TOTP code for `secret` at time step `counter` (RFC 4226
/// HOTP with HMAC-SHA-1 and dynamic truncation).
pub fn hotp(secret: &[u8], counter: u64) -> u32 {
    let mut mac = Hmac::<sha1::Sha1>::new_from_slice(secret).expect("HMAC takes any key length");
    mac.update(&counter.to_be_bytes());
    let digest = mac.finalize().into_bytes();
    let offset = usize::from(digest[19] & 0x0f);
    let code = u32::from_be_bytes([
        digest[offset] & 0x7f,
        digest[offset + 1],
        digest[offset + 2],
        digest[offset + 3],
    ]);
    code % 1_000_000
}

/// Checks a TOTP code (RFC 6238: 30-second steps), allowing one step of
/// clock drift either way.
pub fn verify_totp(secret: &[u8], code: &str, at: OffsetDateTime) -> bool {
    let code = code.trim().replace(' ', "");
    let Ok(n) = code.parse::<u32>() else {
        return false;
    };
    if code.len() != 6 {
        return false;
    }
    let step = (at.unix_timestamp() / 30) as u64;
    [step.saturating_sub(1), step, step + 1]
        .into_iter()
        .any(|s| hotp(secret, s) == n)
}

/// The `otpauth://` URI authenticator apps read (Key Uri Format).
pub fn totp_uri(issuer: &str, account: &str, secret: &[u8]) -> String {
    format!(
        "otpauth://totp/{issuer}:{account}?secret={}&issuer={issuer}&algorithm=SHA1&digits=6&period=30",
        base32_encode(secret)
    )
}

/// Counts events (failed logins, filings through the public form, status
/// lookups) per key and per address within a window, and refuses further
/// attempts for a while once a limit is reached.
#[derive(Debug)]
pub struct Throttle {
    failures: Mutex<HashMap<String, Vec<OffsetDateTime>>>,
    window: Duration,
    per_account: usize,
    per_address: usize,
}

impl Throttle {
    /// A throttle allowing `per_account` failures for one login name and
    /// `per_address` failures from one address within `window`.
    pub fn new(window: Duration, per_account: usize, per_address: usize) -> Self {
        Throttle {
            failures: Mutex::new(HashMap::new()),
            window,
            per_account,
            per_address,
        }
    }

    fn count(&self, key: &str, now: OffsetDateTime) -> usize {
        let mut map = self.failures.lock().unwrap_or_else(|e| e.into_inner());
        let Some(list) = map.get_mut(key) else {
            return 0;
        };
        list.retain(|t| now - *t < self.window);
        list.len()
    }

    /// True when a login for `account` from `address` must be refused now.
    pub fn is_blocked(&self, account: &str, address: &str, now: OffsetDateTime) -> bool {
        self.count(&format!("u:{account}"), now) >= self.per_account
            || self.count(&format!("a:{address}"), now) >= self.per_address
    }

    /// Records a failure.
    pub fn fail(&self, account: &str, address: &str, now: OffsetDateTime) {
        let mut map = self.failures.lock().unwrap_or_else(|e| e.into_inner());
        for key in [format!("u:{account}"), format!("a:{address}")] {
            map.entry(key).or_default().push(now);
        }
        // Bound memory under a flood of distinct names.
        if map.len() > 100_000 {
            map.retain(|_, v| v.last().is_some_and(|t| now - *t < self.window));
        }
    }

    /// Forgets an account's failures after a successful login.
    pub fn succeed(&self, account: &str) {
        self.failures
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .remove(&format!("u:{account}"));
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use time::macros::datetime;

    #[test]
    fn passwords_hash_and_verify() {
        let h = hash_password("correct horse battery").unwrap();
        assert!(h.starts_with("$argon2id$"));
        assert!(verify_password("correct horse battery", &h));
        assert!(!verify_password("correct horse batterY", &h));
        assert!(!verify_password("x", "not a hash"));
    }

    #[test]
    fn hotp_matches_rfc4226_appendix_d() {
        // RFC 4226, Appendix D: secret "12345678901234567890", counters 0..9.
        let secret = b"12345678901234567890";
        let expected = [
            755224, 287082, 359152, 969429, 338314, 254676, 287922, 162583, 399871, 520489,
        ];
        for (counter, want) in expected.iter().enumerate() {
            assert_eq!(hotp(secret, counter as u64), *want, "counter {counter}");
        }
    }

    #[test]
    fn totp_accepts_one_step_of_drift_only() {
        let secret = b"12345678901234567890";
        let at = datetime!(2026-01-01 12:00:00 UTC);
        let step = (at.unix_timestamp() / 30) as u64;
        let code = |s| format!("{:06}", hotp(secret, s));
        assert!(verify_totp(secret, &code(step), at));
        assert!(verify_totp(secret, &code(step - 1), at));
        assert!(!verify_totp(secret, &code(step - 2), at));
        assert!(!verify_totp(secret, "12345", at));
    }

    #[test]
    fn base32_matches_rfc4648_vectors() {
        assert_eq!(base32_encode(b"foobar"), "MZXW6YTBOI");
        assert_eq!(base32_encode(b"f"), "MY");
    }

    #[test]
    fn throttle_blocks_after_limit_and_forgets_after_window() {
        let t = Throttle::new(Duration::minutes(15), 3, 10);
        let now = datetime!(2026-01-01 12:00 UTC);
        for _ in 0..3 {
            assert!(!t.is_blocked("ana", "1.2.3.4", now));
            t.fail("ana", "1.2.3.4", now);
        }
        assert!(t.is_blocked("ana", "9.9.9.9", now), "per account");
        assert!(!t.is_blocked("bob", "1.2.3.4", now));
        assert!(!t.is_blocked("ana", "1.2.3.4", now + Duration::minutes(16)));
    }
}
