//! Interface text in the user's language, from Fluent (`.ftl`) files.
//!
//! Each language is one file in `locales/`, embedded at build time. Adding
//! Arabic or French means adding `ar.ftl` or `fr.ftl` and a variant of
//! [`UiLanguage`]; a test checks that every file defines every message the
//! English file defines.

use std::collections::HashMap;

use fluent_bundle::concurrent::FluentBundle;
use fluent_bundle::{FluentArgs, FluentResource, FluentValue};
use lantern_domain::user::UiLanguage;
use lantern_domain::FieldError;

/// The embedded message files, by language.
pub const SOURCES: &[(UiLanguage, &str)] = &[
    (UiLanguage::En, include_str!("../locales/en.ftl")),
    (UiLanguage::Fa, include_str!("../locales/fa.ftl")),
];

/// Every language's messages.
pub struct I18n {
    bundles: HashMap<UiLanguage, FluentBundle<FluentResource>>,
}

impl std::fmt::Debug for I18n {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("I18n").field("languages", &self.bundles.len()).finish()
    }
}

/// A message file failed to parse (a build-time mistake, caught by tests).
#[derive(Debug, thiserror::Error)]
#[error("locale {0}: {1}")]
pub struct LocaleError(pub &'static str, pub String);

impl I18n {
    /// Parses every embedded message file.
    pub fn load() -> Result<Self, LocaleError> {
        let mut bundles = HashMap::new();
        for (lang, source) in SOURCES {
            let resource = FluentResource::try_new(source.to_string())
                .map_err(|(_, errs)| LocaleError(lang.code(), format!("{errs:?}")))?;
            let id: unic_langid::LanguageIdentifier = lang
                .code()
                .parse()
                .map_err(|e| LocaleError(lang.code(), format!("{e}")))?;
            let mut bundle = FluentBundle::new_concurrent(vec![id]);
            // Unicode isolation marks keep Latin names in Persian sentences
            // (and the reverse) in the right order; English needs none.
            bundle.set_use_isolating(lang.is_rtl());
            bundle
                .add_resource(resource)
                .map_err(|errs| LocaleError(lang.code(), format!("{errs:?}")))?;
            bundles.insert(*lang, bundle);
        }
        Ok(I18n { bundles })
    }

    /// The message `key` in `lang` with `args`; falls back to English, then
    /// to the key itself so a missing message is visible, never a crash.
    pub fn text(&self, lang: UiLanguage, key: &str, args: &[(&str, FluentValue<'_>)]) -> String {
        for l in [lang, UiLanguage::En] {
            let Some(bundle) = self.bundles.get(&l) else {
                continue;
            };
            let Some(pattern) = bundle.get_message(key).and_then(|m| m.value()) else {
                continue;
            };
            let mut fargs = FluentArgs::new();
            for (k, v) in args {
                fargs.set(*k, v.clone());
            }
            let mut errors = Vec::new();
            return bundle
                .format_pattern(pattern, (!args.is_empty()).then_some(&fargs), &mut errors)
                .into_owned();
        }
        key.to_string()
    }

    /// A field error as a sentence in `lang` ("This field is required.").
    pub fn field_error(&self, lang: UiLanguage, e: &FieldError) -> String {
        let key = format!("error-{}", e.reason.code());
        match e.reason.limit() {
            Some(n) => self.text(lang, &key, &[("limit", FluentValue::from(n as u64))]),
            None => self.text(lang, &key, &[]),
        }
    }

    /// True when `key` exists in `lang` itself (without falling back).
    pub fn has(&self, lang: UiLanguage, key: &str) -> bool {
        self.bundles.get(&lang).is_some_and(|b| b.has_message(key))
    }
}

/// The message ids a `.ftl` source defines, for completeness checks.
pub fn message_ids(source: &str) -> Vec<String> {
    source
        .lines()
        .filter(|l| !l.starts_with([' ', '#', '\t', '-', '.', '*', '[', '}']) && l.contains(" ="))
        .filter_map(|l| l.split(" =").next())
        .map(|s| s.trim().to_string())
        .filter(|s| !s.is_empty())
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use lantern_domain::Reason;

    #[test]
    fn every_language_has_every_message() {
        let i18n = I18n::load().unwrap();
        let english = message_ids(SOURCES[0].1);
        assert!(english.len() > 50, "parsed too few ids: {}", english.len());
        for (lang, _) in SOURCES {
            let missing: Vec<_> = english.iter().filter(|k| !i18n.has(*lang, k)).collect();
            assert!(missing.is_empty(), "{} lacks {missing:?}", lang.code());
        }
    }

    #[test]
    fn testimony_vocabularies_have_labels_in_every_language() {
        use lantern_domain::testimony as t;
        let i18n = I18n::load().unwrap();
        let mut keys: Vec<String> = t::BUILT_IN_ACT_TYPES.iter().map(|c| format!("act-type-{c}")).collect();
        keys.extend(t::Degree::ALL.iter().map(|v| format!("degree-{}", v.code())));
        keys.extend(t::SourceKind::ALL.iter().map(|v| format!("source-{}", v.code())));
        keys.extend(t::Reliability::ALL.iter().map(|v| format!("reliability-{}", v.code())));
        keys.extend(
            t::ConfidentialPart::ALL
                .iter()
                .map(|v| format!("confidential-{}", v.code())),
        );
        keys.extend(t::ShareDecision::ALL.iter().map(|v| format!("decision-{}", v.code())));
        keys.extend(t::Redaction::ALL.iter().map(|v| format!("redaction-{}", v.code())));
        keys.extend(
            t::RecipientKind::ALL
                .iter()
                .map(|v| format!("recipient-kind-{}", v.code())),
        );
        for (lang, _) in SOURCES {
            let missing: Vec<_> = keys.iter().filter(|k| !i18n.has(*lang, k)).collect();
            assert!(missing.is_empty(), "{} lacks {missing:?}", lang.code());
        }
    }

    /// Every reason; the match makes a new variant a compile error here
    /// until it is listed, so no reason can ship without its message.
    fn every_reason() -> Vec<Reason> {
        let all = vec![
            Reason::Required,
            Reason::TooLong { max: 1 },
            Reason::TooShort { min: 1 },
            Reason::ForbiddenCharacters,
            Reason::UnknownChoice,
            Reason::InvalidDate,
            Reason::DateInFuture,
            Reason::DateTooEarly,
            Reason::InvalidRange,
            Reason::SelfRelation,
            Reason::AncestorCycle,
            Reason::Duplicate,
            Reason::InvalidId,
            Reason::NotFound,
            Reason::PrimaryNameRequired,
            Reason::InvalidNumber,
            Reason::InvalidFormat,
            Reason::StepNotAllowed,
            Reason::StepNotForRole,
            Reason::DoubleBooked,
            Reason::Unavailable,
            Reason::NotConsented,
            Reason::NotInFuture,
            Reason::TooFarAhead,
            Reason::NotAWitness,
            Reason::HiddenByRedaction,
            Reason::FileTooLarge { max_mb: 1 },
        ];
        for r in &all {
            match r {
                Reason::Required
                | Reason::TooLong { .. }
                | Reason::TooShort { .. }
                | Reason::ForbiddenCharacters
                | Reason::UnknownChoice
                | Reason::InvalidDate
                | Reason::DateInFuture
                | Reason::DateTooEarly
                | Reason::InvalidRange
                | Reason::SelfRelation
                | Reason::AncestorCycle
                | Reason::Duplicate
                | Reason::InvalidId
                | Reason::NotFound
                | Reason::PrimaryNameRequired
                | Reason::InvalidNumber
                | Reason::InvalidFormat
                | Reason::StepNotAllowed
                | Reason::StepNotForRole
                | Reason::DoubleBooked
                | Reason::Unavailable
                | Reason::NotConsented
                | Reason::NotInFuture
                | Reason::TooFarAhead
                | Reason::NotAWitness
                | Reason::HiddenByRedaction
                | Reason::FileTooLarge { .. } => {}
            }
        }
        all
    }

    #[test]
    fn every_reason_has_a_message() {
        let i18n = I18n::load().unwrap();
        let reasons = every_reason();
        for (lang, _) in SOURCES {
            for r in &reasons {
                assert!(
                    i18n.has(*lang, &format!("error-{}", r.code())),
                    "{} {}",
                    lang.code(),
                    r.code()
                );
            }
        }
        let e = FieldError::new("x", Reason::TooLong { max: 200 });
        assert!(i18n.field_error(UiLanguage::En, &e).contains("200"));
        assert!(i18n.field_error(UiLanguage::Fa, &e).contains("200"));
    }
}
