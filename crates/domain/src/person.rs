//! A registered person and the parsing of a person's form into a draft.

use serde::{Deserialize, Serialize};
use time::Date;

use crate::date::FuzzyDate;
use crate::error::{FieldError, FieldErrors, Reason};
use crate::names::{NameKind, PersonName};
use crate::text::optional_text;

macro_rules! id_type {
    ($(#[$doc:meta])* $name:ident) => {
        $(#[$doc])*
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, serde::Serialize, serde::Deserialize)]
        #[serde(transparent)]
        pub struct $name(pub uuid::Uuid);

        impl $name {
            /// A new time-ordered identifier (UUIDv7).
            pub fn new() -> Self {
                $name(uuid::Uuid::now_v7())
            }

            /// Parses the hyphenated form; `field` is used in the error.
            pub fn parse(field: &str, raw: &str) -> Result<Self, $crate::error::FieldError> {
                uuid::Uuid::parse_str(raw.trim())
                    .map($name)
                    .map_err(|_| $crate::error::FieldError::new(field, $crate::error::Reason::InvalidId))
            }
        }

        impl Default for $name {
            fn default() -> Self {
                Self::new()
            }
        }

        impl std::fmt::Display for $name {
            fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                self.0.fmt(f)
            }
        }
    };
}
pub(crate) use id_type;

id_type!(
    /// Identifies a person.
    PersonId
);
id_type!(
    /// Identifies a household.
    HouseholdId
);
id_type!(
    /// Identifies a site (a camp or a place where people are registered).
    SiteId
);

/// Defines a closed enumeration with stable codes and a parser.
macro_rules! code_enum {
    ($(#[$doc:meta])* $name:ident { $($(#[$vdoc:meta])* $variant:ident = $code:literal),+ $(,)? }) => {
        $(#[$doc])*
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, serde::Serialize, serde::Deserialize)]
        #[serde(rename_all = "snake_case")]
        pub enum $name {
            $($(#[$vdoc])* $variant),+
        }

        impl $name {
            /// Every value, in display order.
            pub const ALL: &'static [$name] = &[$($name::$variant),+];

            /// Stable code (also the API's and the form's value).
            pub fn code(self) -> &'static str {
                match self {
                    $($name::$variant => $code),+
                }
            }

            /// Parses a stable code; `field` is used in the error.
            pub fn parse(field: &str, raw: &str) -> Result<Self, $crate::error::FieldError> {
                let raw = raw.trim();
                Self::ALL
                    .iter()
                    .copied()
                    .find(|v| v.code() == raw)
                    .ok_or_else(|| $crate::error::FieldError::new(field, $crate::error::Reason::UnknownChoice))
            }
        }
    };
}
pub(crate) use code_enum;

code_enum!(
    /// Sex as recorded at registration.
    Sex {
        /// Female.
        Female = "female",
        /// Male.
        Male = "male",
        /// Another sex.
        Other = "other",
        /// Not known or not stated.
        Unknown = "unknown",
    }
);

code_enum!(
    /// Where the person is now, as far as the registry knows.
    ResidenceStatus {
        /// Lives at a site.
        Resident = "resident",
        /// Has left the country.
        Departed = "departed",
        /// Moved to another site or place.
        Transferred = "transferred",
        /// Has died.
        Deceased = "deceased",
        /// Not known.
        Unknown = "unknown",
    }
);

code_enum!(
    /// Kind of identity document.
    DocumentKind {
        /// Passport.
        Passport = "passport",
        /// National identity card.
        NationalId = "national_id",
        /// Refugee or asylum-seeker certificate.
        RefugeeCertificate = "refugee_certificate",
        /// Birth certificate.
        BirthCertificate = "birth_certificate",
        /// Any other document.
        Other = "other",
    }
);

/// An identity document. Protected: encrypted at rest, reads audited.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct IdentityDocument {
    /// Kind.
    pub kind: DocumentKind,
    /// Number as printed.
    pub number: String,
    /// Issuing country or authority, if known.
    pub issuer: Option<String>,
}

/// Largest photo accepted, in bytes.
pub const MAX_PHOTO_BYTES: usize = 5 * 1024 * 1024;

/// A photo of a person: a JPEG or PNG image, recognised by its content (not
/// by the name or type the client claims).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Photo {
    /// `image/jpeg` or `image/png`.
    pub content_type: &'static str,
    /// The file as uploaded.
    pub bytes: Vec<u8>,
}

impl Photo {
    /// Checks size and format; `field` is used in the error.
    pub fn parse(field: &str, bytes: Vec<u8>) -> Result<Photo, FieldError> {
        if bytes.is_empty() {
            return Err(FieldError::new(field, Reason::Required));
        }
        if bytes.len() > MAX_PHOTO_BYTES {
            return Err(FieldError::new(field, Reason::TooLong { max: MAX_PHOTO_BYTES }));
        }
        let content_type = if bytes.starts_with(&[0xFF, 0xD8, 0xFF]) {
            "image/jpeg"
        } else if bytes.starts_with(b"\x89PNG\r\n\x1a\n") {
            "image/png"
        } else {
            return Err(FieldError::new(field, Reason::InvalidFormat));
        };
        Ok(Photo { content_type, bytes })
    }
}

/// The protected part of a person: never shown in lists, encrypted at rest,
/// and every read writes an audit event.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct ProtectedFields {
    /// Identity documents.
    pub documents: Vec<IdentityDocument>,
    /// Contact details (telephone, address of relatives …).
    pub contact: Option<String>,
    /// Case notes.
    pub notes: Option<String>,
}

impl ProtectedFields {
    /// True when nothing is recorded.
    pub fn is_empty(&self) -> bool {
        self.documents.is_empty() && self.contact.is_none() && self.notes.is_none()
    }
}

/// The unprotected content of a person record: what staff with read access see.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct PersonCore {
    /// Names; at least one, and exactly one of kind primary.
    pub names: Vec<PersonName>,
    /// Father's name.
    pub father_name: Option<String>,
    /// Mother's name.
    pub mother_name: Option<String>,
    /// Sex.
    pub sex: Sex,
    /// Birth date with its precision.
    pub birth_date: Option<FuzzyDate>,
    /// Birth place.
    pub birth_place: Option<String>,
    /// Nationality.
    pub nationality: Option<String>,
    /// Residence status.
    pub status: ResidenceStatus,
    /// Site of residence.
    pub site_id: Option<SiteId>,
    /// Block within the site.
    pub block: Option<String>,
    /// Room within the block.
    pub room: Option<String>,
    /// Household.
    pub household_id: Option<HouseholdId>,
    /// Not to be traced at all (protection concerns): tracing requests are
    /// never matched against this person and nothing about them is passed
    /// on to a requester. Written only when set, so records from before the
    /// flag keep the form their log entries commit to.
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub not_to_be_traced: bool,
}

impl PersonCore {
    /// The primary name (a parsed record always has exactly one).
    pub fn primary_name(&self) -> &PersonName {
        self.names
            .iter()
            .find(|n| n.kind == NameKind::Primary)
            .unwrap_or(&self.names[0])
    }
}

/// The validated content of a person record, as written by a registrar.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct PersonDraft {
    /// What readers see.
    pub core: PersonCore,
    /// What only some roles see, encrypted at rest.
    pub protected: ProtectedFields,
}

/// The most names one person may carry.
pub const MAX_NAMES: usize = 20;
/// The most identity documents one person may carry.
pub const MAX_DOCUMENTS: usize = 10;
/// Longest short text (places, nationality, parents' names), in characters.
pub const MAX_SHORT: usize = 200;
/// Longest block or room label.
pub const MAX_LABEL: usize = 40;
/// Longest notes or contact text.
pub const MAX_LONG: usize = 10_000;

/// A name as typed into a form or sent in JSON, before parsing.
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(default)]
pub struct NameInput {
    /// Text.
    pub text: String,
    /// Kind code (`primary`, `alias`, …); empty means alias, or primary for
    /// the first name.
    pub kind: String,
    /// Language tag.
    pub language: String,
}

/// An identity document as typed, before parsing.
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(default)]
pub struct DocumentInput {
    /// Kind code.
    pub kind: String,
    /// Number.
    pub number: String,
    /// Issuer.
    pub issuer: String,
}

/// A person as typed into a form or sent in JSON: every field a string, so
/// nothing is refused before it can be reported field by field.
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(default)]
pub struct PersonInput {
    /// Names.
    pub names: Vec<NameInput>,
    /// Father's name.
    pub father_name: String,
    /// Mother's name.
    pub mother_name: String,
    /// Sex code.
    pub sex: String,
    /// Birth date (`YYYY-MM-DD`, `YYYY-MM`, `YYYY` or `YYYY..YYYY`).
    pub birth_date: String,
    /// Birth place.
    pub birth_place: String,
    /// Nationality.
    pub nationality: String,
    /// Residence status code.
    pub status: String,
    /// Site id.
    pub site_id: String,
    /// Block.
    pub block: String,
    /// Room.
    pub room: String,
    /// Household id.
    pub household_id: String,
    /// Identity documents.
    pub documents: Vec<DocumentInput>,
    /// Contact details.
    pub contact: String,
    /// Notes.
    pub notes: String,
    /// Not to be traced (protection concerns); give the reason in the notes.
    pub not_to_be_traced: bool,
}

impl PersonInput {
    /// Parses every field, collecting every error. Rows whose fields are all
    /// blank (empty form rows) are ignored.
    pub fn parse(&self, today: Date) -> Result<PersonDraft, FieldErrors> {
        let mut errors = FieldErrors::new();
        let mut names = Vec::new();
        // Indices stay those of the submitted rows, so an error points at the
        // row the user typed in even when blank rows come before it.
        let rows = self
            .names
            .iter()
            .enumerate()
            .filter(|(_, n)| !n.text.trim().is_empty() || !n.language.trim().is_empty());
        for (i, n) in rows {
            let kind = match n.kind.trim() {
                "" if names.is_empty() && errors.is_empty() => "primary",
                "" => "alias",
                k => k,
            };
            match PersonName::parse(i, &n.text, kind, &n.language) {
                Ok(name) => names.push(name),
                Err(es) => errors.0.extend(es),
            }
        }
        if names.len() > MAX_NAMES {
            errors.push("names", Reason::TooLong { max: MAX_NAMES });
        }
        let primaries = names.iter().filter(|n| n.kind == NameKind::Primary).count();
        if names.is_empty() && errors.is_empty() {
            errors.push("names[0].text", Reason::Required);
        } else if primaries != 1 && errors.is_empty() {
            errors.push("names", Reason::PrimaryNameRequired);
        }
        let short =
            |field: &str, v: &str, e: &mut FieldErrors| e.take(optional_text(field, v, MAX_SHORT, false)).flatten();
        let father_name = short("father_name", &self.father_name, &mut errors);
        let mother_name = short("mother_name", &self.mother_name, &mut errors);
        let birth_place = short("birth_place", &self.birth_place, &mut errors);
        let nationality = short("nationality", &self.nationality, &mut errors);
        let sex = match self.sex.trim() {
            "" => Some(Sex::Unknown),
            s => errors.take(Sex::parse("sex", s)),
        };
        let birth_date = errors
            .take(FuzzyDate::parse("birth_date", &self.birth_date, today))
            .flatten();
        let status = match self.status.trim() {
            "" => Some(ResidenceStatus::Resident),
            s => errors.take(ResidenceStatus::parse("status", s)),
        };
        let site_id = optional_id(&mut errors, "site_id", &self.site_id, SiteId::parse);
        let block = errors
            .take(optional_text("block", &self.block, MAX_LABEL, false))
            .flatten();
        let room = errors
            .take(optional_text("room", &self.room, MAX_LABEL, false))
            .flatten();
        let household_id = optional_id(&mut errors, "household_id", &self.household_id, HouseholdId::parse);
        let mut documents = Vec::new();
        let doc_rows = self
            .documents
            .iter()
            .enumerate()
            .filter(|(_, d)| !d.number.trim().is_empty() || !d.issuer.trim().is_empty());
        for (i, d) in doc_rows {
            let kind = match d.kind.trim() {
                "" => Some(DocumentKind::Other),
                k => errors.take(DocumentKind::parse(&format!("documents[{i}].kind"), k)),
            };
            let number = errors
                .take(optional_text(&format!("documents[{i}].number"), &d.number, 100, false))
                .flatten();
            if number.is_none() && d.number.trim().is_empty() {
                errors.push(format!("documents[{i}].number"), Reason::Required);
            }
            let issuer = errors
                .take(optional_text(
                    &format!("documents[{i}].issuer"),
                    &d.issuer,
                    MAX_SHORT,
                    false,
                ))
                .flatten();
            if let (Some(kind), Some(number)) = (kind, number) {
                documents.push(IdentityDocument { kind, number, issuer });
            }
        }
        if documents.len() > MAX_DOCUMENTS {
            errors.push("documents", Reason::TooLong { max: MAX_DOCUMENTS });
        }
        let contact = errors
            .take(optional_text("contact", &self.contact, MAX_LONG, true))
            .flatten();
        let notes = errors
            .take(optional_text("notes", &self.notes, MAX_LONG, true))
            .flatten();
        if !errors.is_empty() {
            return Err(errors);
        }
        Ok(PersonDraft {
            core: PersonCore {
                names,
                father_name,
                mother_name,
                sex: sex.unwrap_or(Sex::Unknown),
                birth_date,
                birth_place,
                nationality,
                status: status.unwrap_or(ResidenceStatus::Unknown),
                site_id,
                block,
                room,
                household_id,
                not_to_be_traced: self.not_to_be_traced,
            },
            protected: ProtectedFields {
                documents,
                contact,
                notes,
            },
        })
    }

    /// The input that would reproduce `draft`, for edit forms.
    pub fn from_draft(core: &PersonCore, protected: &ProtectedFields) -> Self {
        let s = |v: &Option<String>| v.clone().unwrap_or_default();
        let draft = core;
        PersonInput {
            names: draft
                .names
                .iter()
                .map(|n| NameInput {
                    text: n.text.as_str().to_string(),
                    kind: n.kind.code().to_string(),
                    language: n.language.as_ref().map(|l| l.as_str().to_string()).unwrap_or_default(),
                })
                .collect(),
            father_name: s(&draft.father_name),
            mother_name: s(&draft.mother_name),
            sex: draft.sex.code().to_string(),
            birth_date: draft.birth_date.map(|d| d.to_string()).unwrap_or_default(),
            birth_place: s(&draft.birth_place),
            nationality: s(&draft.nationality),
            status: draft.status.code().to_string(),
            site_id: draft.site_id.map(|i| i.to_string()).unwrap_or_default(),
            block: s(&draft.block),
            room: s(&draft.room),
            household_id: draft.household_id.map(|i| i.to_string()).unwrap_or_default(),
            documents: protected
                .documents
                .iter()
                .map(|d| DocumentInput {
                    kind: d.kind.code().to_string(),
                    number: d.number.clone(),
                    issuer: d.issuer.clone().unwrap_or_default(),
                })
                .collect(),
            contact: s(&protected.contact),
            notes: s(&protected.notes),
            not_to_be_traced: draft.not_to_be_traced,
        }
    }
}

fn optional_id<T>(
    errors: &mut FieldErrors,
    field: &str,
    raw: &str,
    parse: fn(&str, &str) -> Result<T, FieldError>,
) -> Option<T> {
    if raw.trim().is_empty() {
        None
    } else {
        errors.take(parse(field, raw))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use time::macros::date;

    fn input() -> PersonInput {
        PersonInput {
            names: vec![
                NameInput {
                    text: "مسعود رضایی".into(),
                    kind: String::new(),
                    language: "fa".into(),
                },
                NameInput {
                    text: "Masoud Rezaei".into(),
                    ..Default::default()
                },
            ],
            birth_date: "1975".into(),
            sex: "male".into(),
            ..Default::default()
        }
    }

    #[test]
    fn parses_a_minimal_person_with_defaults() {
        let d = input().parse(date!(2026 - 01 - 01)).unwrap();
        assert_eq!(d.core.names.len(), 2);
        assert_eq!(d.core.primary_name().text.as_str(), "مسعود رضایی");
        assert_eq!(d.core.names[1].kind, NameKind::Alias);
        assert_eq!(d.core.status, ResidenceStatus::Resident);
        assert_eq!(d.core.birth_date, Some(FuzzyDate::Year { year: 1975 }));
    }

    #[test]
    fn reports_every_bad_field() {
        let mut i = input();
        i.sex = "x".into();
        i.birth_date = "1975-02-31".into();
        i.site_id = "nope".into();
        i.documents = vec![DocumentInput {
            kind: "visa".into(),
            number: "A1".into(),
            issuer: String::new(),
        }];
        let errs = i.parse(date!(2026 - 01 - 01)).unwrap_err();
        let fields: Vec<_> = errs.0.iter().map(|e| e.field.as_str()).collect();
        assert_eq!(fields, ["sex", "birth_date", "site_id", "documents[0].kind"]);
    }

    #[test]
    fn errors_point_at_the_submitted_row() {
        let mut i = input();
        i.names.insert(0, NameInput::default());
        i.names[2].language = "not a tag".into();
        let e = i.parse(date!(2026 - 01 - 01)).unwrap_err();
        assert_eq!(e.0[0].field, "names[2].language");
    }

    #[test]
    fn requires_a_name_and_exactly_one_primary() {
        let mut i = input();
        i.names.clear();
        let e = i.parse(date!(2026 - 01 - 01)).unwrap_err();
        assert_eq!(e.0[0].field, "names[0].text");
        let mut i = input();
        i.names[1].kind = "primary".into();
        let e = i.parse(date!(2026 - 01 - 01)).unwrap_err();
        assert_eq!(e.0[0].reason, Reason::PrimaryNameRequired);
    }

    #[test]
    fn photos_are_recognised_by_content() {
        let png = b"\x89PNG\r\n\x1a\nrest".to_vec();
        assert_eq!(Photo::parse("photo", png).unwrap().content_type, "image/png");
        assert_eq!(
            Photo::parse("photo", vec![0xFF, 0xD8, 0xFF, 0xE0])
                .unwrap()
                .content_type,
            "image/jpeg"
        );
        assert_eq!(
            Photo::parse("photo", b"<svg>".to_vec()).unwrap_err().reason,
            Reason::InvalidFormat
        );
        assert_eq!(Photo::parse("photo", vec![]).unwrap_err().reason, Reason::Required);
        let big = vec![0xFF; MAX_PHOTO_BYTES + 1];
        assert!(matches!(
            Photo::parse("photo", big).unwrap_err().reason,
            Reason::TooLong { .. }
        ));
    }

    #[test]
    fn draft_round_trips_through_input() {
        let mut i = input();
        i.documents = vec![DocumentInput {
            kind: "passport".into(),
            number: "K123".into(),
            issuer: "IR".into(),
        }];
        i.notes = "line one\nline two".into();
        let d = i.parse(date!(2026 - 01 - 01)).unwrap();
        let again = PersonInput::from_draft(&d.core, &d.protected)
            .parse(date!(2026 - 01 - 01))
            .unwrap();
        assert_eq!(d, again);
    }
}
