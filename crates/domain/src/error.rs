//! Validation errors that name the field and the reason.
//!
//! A [`Reason`] is a stable code, not a sentence: the web layer turns it into
//! the user's language (Fluent message `error-<code>`), the JSON API returns
//! the code itself so clients can rely on it.

use std::fmt;

/// Why a value was refused. The codes are part of the API: do not rename.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Reason {
    /// The field must not be empty.
    Required,
    /// The value is longer than allowed.
    TooLong {
        /// Maximum length in characters.
        max: usize,
    },
    /// The value is shorter than allowed.
    TooShort {
        /// Minimum length in characters.
        min: usize,
    },
    /// The value contains control characters or other forbidden characters.
    ForbiddenCharacters,
    /// The value is not one of the allowed choices.
    UnknownChoice,
    /// The date is not a valid calendar date or not in the expected form.
    InvalidDate,
    /// The date lies in the future.
    DateInFuture,
    /// The date is implausibly early.
    DateTooEarly,
    /// An approximate range whose start is after its end, or that is too wide.
    InvalidRange,
    /// A relation from a record to itself.
    SelfRelation,
    /// The relation would make a person their own ancestor.
    AncestorCycle,
    /// The relation already exists.
    Duplicate,
    /// The value is not a valid identifier.
    InvalidId,
    /// The record refers to something that does not exist.
    NotFound,
    /// A person must keep at least one primary name.
    PrimaryNameRequired,
    /// The value is not a valid number.
    InvalidNumber,
    /// The value has the wrong format.
    InvalidFormat,
    /// This step cannot follow the case's current step.
    StepNotAllowed,
    /// The user's role does not record this step.
    StepNotForRole,
    /// Already booked at an overlapping time.
    DoubleBooked,
    /// Outside the person's weekly availability.
    Unavailable,
    /// The person concerned has not agreed to this.
    NotConsented,
    /// The date must be later than today.
    NotInFuture,
    /// The date is further ahead than allowed.
    TooFarAhead,
    /// Only the own record of a registered witness of a testimony in the
    /// same dossier may be given to its recipient.
    NotAWitness,
    /// The chosen redaction profile hides what this would show.
    HiddenByRedaction,
    /// The file is larger than allowed.
    FileTooLarge {
        /// The limit in megabytes (2^20 bytes).
        max_mb: usize,
    },
}

impl Reason {
    /// The stable machine-readable code of this reason.
    pub fn code(&self) -> &'static str {
        match self {
            Reason::Required => "required",
            Reason::TooLong { .. } => "too-long",
            Reason::TooShort { .. } => "too-short",
            Reason::ForbiddenCharacters => "forbidden-characters",
            Reason::UnknownChoice => "unknown-choice",
            Reason::InvalidDate => "invalid-date",
            Reason::DateInFuture => "date-in-future",
            Reason::DateTooEarly => "date-too-early",
            Reason::InvalidRange => "invalid-range",
            Reason::SelfRelation => "self-relation",
            Reason::AncestorCycle => "ancestor-cycle",
            Reason::Duplicate => "duplicate",
            Reason::InvalidId => "invalid-id",
            Reason::NotFound => "not-found",
            Reason::PrimaryNameRequired => "primary-name-required",
            Reason::InvalidNumber => "invalid-number",
            Reason::InvalidFormat => "invalid-format",
            Reason::StepNotAllowed => "step-not-allowed",
            Reason::StepNotForRole => "step-not-for-role",
            Reason::DoubleBooked => "double-booked",
            Reason::Unavailable => "unavailable",
            Reason::NotConsented => "not-consented",
            Reason::NotInFuture => "not-in-future",
            Reason::TooFarAhead => "too-far-ahead",
            Reason::NotAWitness => "not-a-witness",
            Reason::HiddenByRedaction => "hidden-by-redaction",
            Reason::FileTooLarge { .. } => "file-too-large",
        }
    }

    /// The numeric parameter a message may show (a length), if any.
    pub fn limit(&self) -> Option<usize> {
        match self {
            Reason::TooLong { max } => Some(*max),
            Reason::TooShort { min } => Some(*min),
            Reason::FileTooLarge { max_mb } => Some(*max_mb),
            _ => None,
        }
    }
}

impl fmt::Display for Reason {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.limit() {
            Some(n) => write!(f, "{} ({n})", self.code()),
            None => f.write_str(self.code()),
        }
    }
}

/// One refused field: which one and why.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{field}: {reason}")]
pub struct FieldError {
    /// The field's name as the form or JSON body spells it (`names[1].text`).
    pub field: String,
    /// Why it was refused.
    pub reason: Reason,
}

impl FieldError {
    /// Makes an error for `field`.
    pub fn new(field: impl Into<String>, reason: Reason) -> Self {
        FieldError {
            field: field.into(),
            reason,
        }
    }
}

/// Every refused field of one submission, so a form can show them all at once.
#[derive(Debug, Clone, Default, PartialEq, Eq, thiserror::Error)]
#[error("{} invalid field(s)", .0.len())]
pub struct FieldErrors(pub Vec<FieldError>);

impl FieldErrors {
    /// No errors yet.
    pub fn new() -> Self {
        Self::default()
    }

    /// Adds an error.
    pub fn push(&mut self, field: impl Into<String>, reason: Reason) {
        self.0.push(FieldError::new(field, reason));
    }

    /// Keeps the value of a parse, or records its error and returns `None`.
    pub fn take<T>(&mut self, result: Result<T, FieldError>) -> Option<T> {
        match result {
            Ok(v) => Some(v),
            Err(e) => {
                self.0.push(e);
                None
            }
        }
    }

    /// True when nothing was refused.
    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }

    /// The first error for a field, for showing it next to that field.
    pub fn for_field(&self, field: &str) -> Option<&FieldError> {
        self.0.iter().find(|e| e.field == field)
    }

    /// `Ok(value)` when there were no errors, else all of them.
    pub fn finish<T>(self, value: impl FnOnce() -> T) -> Result<T, FieldErrors> {
        if self.0.is_empty() {
            Ok(value())
        } else {
            Err(self)
        }
    }
}

impl From<FieldError> for FieldErrors {
    fn from(e: FieldError) -> Self {
        FieldErrors(vec![e])
    }
}
