//! Users: names, passwords (policy only; hashing lives in the web layer),
//! interface languages.

use serde::{Deserialize, Serialize};

use crate::error::{FieldError, Reason};
use crate::person::{code_enum, id_type};
use crate::text::required_text;

id_type!(
    /// Identifies a user.
    UserId
);

/// A login name: 3 to 64 characters of `a-z`, `0-9`, `.`, `_`, `-`,
/// stored lower case.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(transparent)]
pub struct Username(String);

impl Username {
    /// Parses a login name.
    pub fn parse(field: &str, raw: &str) -> Result<Self, FieldError> {
        let v = raw.trim().to_ascii_lowercase();
        if v.is_empty() {
            return Err(FieldError::new(field, Reason::Required));
        }
        if v.len() < 3 {
            return Err(FieldError::new(field, Reason::TooShort { min: 3 }));
        }
        if v.len() > 64 {
            return Err(FieldError::new(field, Reason::TooLong { max: 64 }));
        }
        if !v
            .chars()
            .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || "._-".contains(c))
        {
            return Err(FieldError::new(field, Reason::InvalidFormat));
        }
        Ok(Username(v))
    }

    /// The name.
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

/// Minimum password length: long passphrases beat composition rules
/// (NIST SP 800-63B, section 5.1.1).
pub const MIN_PASSWORD: usize = 12;
/// Maximum password length, to bound hashing work.
pub const MAX_PASSWORD: usize = 256;

/// A new password that meets the policy. Not `Debug`-printable in clear.
#[derive(Clone)]
pub struct NewPassword(String);

impl std::fmt::Debug for NewPassword {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("NewPassword(…)")
    }
}

impl NewPassword {
    /// Checks length, and that it is not the login name.
    pub fn parse(field: &str, raw: &str, username: Option<&Username>) -> Result<Self, FieldError> {
        let n = raw.chars().count();
        if n == 0 {
            return Err(FieldError::new(field, Reason::Required));
        }
        if n < MIN_PASSWORD {
            return Err(FieldError::new(field, Reason::TooShort { min: MIN_PASSWORD }));
        }
        if n > MAX_PASSWORD {
            return Err(FieldError::new(field, Reason::TooLong { max: MAX_PASSWORD }));
        }
        if username.is_some_and(|u| raw.to_ascii_lowercase().contains(u.as_str())) {
            return Err(FieldError::new(field, Reason::InvalidFormat));
        }
        Ok(NewPassword(raw.to_string()))
    }

    /// The password, for hashing.
    pub fn expose(&self) -> &str {
        &self.0
    }
}

/// A display name shown in the interface and the audit trail.
pub fn display_name(field: &str, raw: &str) -> Result<String, FieldError> {
    required_text(field, raw, 100)
}

code_enum!(
    /// The languages of the interface. Adding one means adding its `.ftl`
    /// file and a variant here.
    UiLanguage {
        /// English.
        En = "en",
        /// Persian (Farsi), right to left.
        Fa = "fa",
    }
);

impl UiLanguage {
    /// True for right-to-left languages.
    pub fn is_rtl(self) -> bool {
        matches!(self, UiLanguage::Fa)
    }

    /// The language's own name, for the language switcher.
    pub fn native_name(self) -> &'static str {
        match self {
            UiLanguage::En => "English",
            UiLanguage::Fa => "فارسی",
        }
    }

    /// Picks the best supported language from an `Accept-Language` header.
    pub fn from_accept_language(header: &str) -> Option<UiLanguage> {
        header
            .split(',')
            .filter_map(|part| part.split(';').next())
            .map(|tag| tag.trim().to_ascii_lowercase())
            .find_map(|tag| {
                let primary = tag.split('-').next().unwrap_or_default().to_string();
                UiLanguage::ALL.iter().copied().find(|l| l.code() == primary)
            })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn usernames() {
        assert_eq!(Username::parse("u", " Reza.K ").unwrap().as_str(), "reza.k");
        assert_eq!(
            Username::parse("u", "ab").unwrap_err().reason,
            Reason::TooShort { min: 3 }
        );
        assert_eq!(Username::parse("u", "رضا").unwrap_err().reason, Reason::InvalidFormat);
    }

    #[test]
    fn passwords() {
        let u = Username::parse("u", "maryam").unwrap();
        assert!(NewPassword::parse("p", "short", None).is_err());
        assert!(NewPassword::parse("p", "maryam-is-my-name", Some(&u)).is_err());
        assert!(NewPassword::parse("p", "correct horse battery", Some(&u)).is_ok());
        assert!(!format!("{:?}", NewPassword::parse("p", "correct horse battery", None).unwrap()).contains("horse"));
    }

    #[test]
    fn accept_language() {
        assert_eq!(
            UiLanguage::from_accept_language("fa-IR,fa;q=0.9,en;q=0.8"),
            Some(UiLanguage::Fa)
        );
        assert_eq!(
            UiLanguage::from_accept_language("de-DE, en;q=0.5"),
            Some(UiLanguage::En)
        );
        assert_eq!(UiLanguage::from_accept_language("de"), None);
    }
}
