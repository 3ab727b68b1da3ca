//! Person names: text in any script, its kind and language.

use serde::{Deserialize, Serialize};

use crate::error::{FieldError, Reason};
use crate::text::{optional_text, search_key};

/// Longest name text accepted, in characters.
pub const MAX_NAME_LEN: usize = 200;

/// A name's text: trimmed, NFC, 1 to [`MAX_NAME_LEN`] characters, no control
/// characters.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(transparent)]
pub struct NameText(String);

impl NameText {
    /// Parses a name; `field` is used in the error.
    pub fn parse(field: &str, raw: &str) -> Result<Self, FieldError> {
        let text =
            optional_text(field, raw, MAX_NAME_LEN, false)?.ok_or_else(|| FieldError::new(field, Reason::Required))?;
        if !text.chars().any(char::is_alphabetic) {
            return Err(FieldError::new(field, Reason::InvalidFormat));
        }
        Ok(NameText(text))
    }

    /// The text.
    pub fn as_str(&self) -> &str {
        &self.0
    }

    /// The normalised key used for exact and prefix search.
    pub fn key(&self) -> String {
        search_key(&self.0)
    }
}

/// The writing system a name is written in, detected from its letters.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Script {
    /// Arabic script (Persian, Arabic, Kurdish Sorani, Urdu …).
    Arabic,
    /// Latin script.
    Latin,
    /// Letters from more than one script.
    Mixed,
    /// Any other script.
    Other,
}

impl Script {
    /// Detects the script of `text` from its alphabetic characters.
    pub fn detect(text: &str) -> Script {
        let (mut arabic, mut latin, mut other) = (false, false, false);
        for c in text.chars().filter(|c| c.is_alphabetic()) {
            match c as u32 {
                0x0600..=0x06FF | 0x0750..=0x077F | 0x08A0..=0x08FF | 0xFB50..=0xFDFF | 0xFE70..=0xFEFF => {
                    arabic = true
                }
                0x0041..=0x024F | 0x1E00..=0x1EFF => latin = true,
                _ => other = true,
            }
        }
        match (arabic, latin, other) {
            (true, false, false) => Script::Arabic,
            (false, true, false) => Script::Latin,
            (false, false, _) => Script::Other,
            _ => Script::Mixed,
        }
    }

    /// Stable code.
    pub fn code(self) -> &'static str {
        match self {
            Script::Arabic => "arabic",
            Script::Latin => "latin",
            Script::Mixed => "mixed",
            Script::Other => "other",
        }
    }

    /// Parses a stable code.
    pub fn from_code(code: &str) -> Option<Script> {
        [Script::Arabic, Script::Latin, Script::Mixed, Script::Other]
            .into_iter()
            .find(|s| s.code() == code)
    }

    /// True for right-to-left scripts, so the UI can set `dir` on the name.
    pub fn is_rtl(self) -> bool {
        self == Script::Arabic
    }
}

/// What kind of name this is for the person.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum NameKind {
    /// The name the person is registered under.
    Primary,
    /// Another spelling or another name the person is known by.
    Alias,
    /// A name given by an organisation the person belonged to.
    Organisational,
    /// The name at birth, if it differs.
    Birth,
    /// An informal name.
    Nickname,
}

impl NameKind {
    /// Every kind, in display order.
    pub const ALL: [NameKind; 5] = [
        NameKind::Primary,
        NameKind::Alias,
        NameKind::Organisational,
        NameKind::Birth,
        NameKind::Nickname,
    ];

    /// Stable code.
    pub fn code(self) -> &'static str {
        match self {
            NameKind::Primary => "primary",
            NameKind::Alias => "alias",
            NameKind::Organisational => "organisational",
            NameKind::Birth => "birth",
            NameKind::Nickname => "nickname",
        }
    }

    /// Parses a stable code.
    pub fn parse(field: &str, code: &str) -> Result<NameKind, FieldError> {
        Self::ALL
            .into_iter()
            .find(|k| k.code() == code.trim())
            .ok_or_else(|| FieldError::new(field, Reason::UnknownChoice))
    }
}

/// An optional BCP 47 language tag such as `fa`, `ar`, `ckb` or `en`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(transparent)]
pub struct LanguageTag(String);

impl LanguageTag {
    /// Parses a simple tag: 2 to 3 letters, optionally followed by `-` and
    /// 2 to 8 letters or digits subtags.
    pub fn parse(field: &str, raw: &str) -> Result<Option<Self>, FieldError> {
        let raw = raw.trim();
        if raw.is_empty() {
            return Ok(None);
        }
        let mut parts = raw.split('-');
        let primary = parts.next().unwrap_or_default();
        let ok_primary = (2..=3).contains(&primary.len()) && primary.chars().all(|c| c.is_ascii_alphabetic());
        let ok_rest = parts.all(|p| (2..=8).contains(&p.len()) && p.chars().all(|c| c.is_ascii_alphanumeric()));
        if ok_primary && ok_rest {
            Ok(Some(LanguageTag(raw.to_ascii_lowercase())))
        } else {
            Err(FieldError::new(field, Reason::InvalidFormat))
        }
    }

    /// The tag.
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

/// One name of a person.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct PersonName {
    /// The text as written.
    pub text: NameText,
    /// Its script, detected from the text.
    pub script: Script,
    /// Its kind.
    pub kind: NameKind,
    /// Its language, if known.
    pub language: Option<LanguageTag>,
}

impl PersonName {
    /// Parses one name; fields are reported as `names[i].text` and so on.
    pub fn parse(index: usize, text: &str, kind: &str, language: &str) -> Result<Self, Vec<FieldError>> {
        let mut errors = Vec::new();
        let text = NameText::parse(&format!("names[{index}].text"), text)
            .map_err(|e| errors.push(e))
            .ok();
        let kind = NameKind::parse(&format!("names[{index}].kind"), kind)
            .map_err(|e| errors.push(e))
            .ok();
        let language = LanguageTag::parse(&format!("names[{index}].language"), language)
            .map_err(|e| errors.push(e))
            .ok();
        match (text, kind, language) {
            (Some(text), Some(kind), Some(language)) if errors.is_empty() => Ok(PersonName {
                script: Script::detect(text.as_str()),
                text,
                kind,
                language,
            }),
            _ => Err(errors),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn detects_scripts() {
        assert_eq!(Script::detect("محمد رضا"), Script::Arabic);
        assert_eq!(Script::detect("Mohammad Reza"), Script::Latin);
        assert_eq!(Script::detect("Ḥusayn"), Script::Latin);
        assert_eq!(Script::detect("Ali علی"), Script::Mixed);
        assert_eq!(Script::detect("Борис"), Script::Other);
    }

    #[test]
    fn name_text_rules() {
        assert!(NameText::parse("n", "  ").is_err());
        assert_eq!(NameText::parse("n", "123").unwrap_err().reason, Reason::InvalidFormat);
        let long = "a".repeat(MAX_NAME_LEN + 1);
        assert_eq!(
            NameText::parse("n", &long).unwrap_err().reason,
            Reason::TooLong { max: MAX_NAME_LEN }
        );
        assert_eq!(NameText::parse("n", " Zahra ").unwrap().as_str(), "Zahra");
    }

    #[test]
    fn person_name_reports_every_field() {
        let errs = PersonName::parse(2, "", "chief", "x").unwrap_err();
        let fields: Vec<_> = errs.iter().map(|e| e.field.as_str()).collect();
        assert_eq!(fields, ["names[2].text", "names[2].kind", "names[2].language"]);
    }

    #[test]
    fn language_tags() {
        assert_eq!(LanguageTag::parse("l", "fa").unwrap().unwrap().as_str(), "fa");
        assert_eq!(LanguageTag::parse("l", "ckb-IQ").unwrap().unwrap().as_str(), "ckb-iq");
        assert!(LanguageTag::parse("l", "farsi language").is_err());
        assert_eq!(LanguageTag::parse("l", "").unwrap(), None);
    }
}
