//! Dates as people know them: a day, a month, a year, or a range of years.
//!
//! A family that has not seen a relative for twenty years rarely knows a
//! birth day; the precision is part of the value, so "1975" never turns into
//! "1975-01-01".

use std::fmt;

use serde::{Deserialize, Serialize};
use time::{Date, Month};

use crate::error::{FieldError, Reason};

/// The earliest birth year accepted.
pub const EARLIEST_YEAR: i32 = 1890;
/// The widest approximate range accepted, in years.
pub const MAX_RANGE_YEARS: i32 = 30;

/// A birth date with its precision.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "precision", rename_all = "snake_case")]
pub enum FuzzyDate {
    /// The exact day is known.
    Day {
        /// The date.
        date: Date,
    },
    /// Year and month are known.
    Month {
        /// Year.
        year: i32,
        /// Month, 1 to 12.
        month: u8,
    },
    /// Only the year is known.
    Year {
        /// Year.
        year: i32,
    },
    /// Somewhere between two years (inclusive).
    Range {
        /// First possible year.
        from: i32,
        /// Last possible year.
        to: i32,
    },
}

impl FuzzyDate {
    /// Parses `YYYY-MM-DD`, `YYYY-MM`, `YYYY` or `YYYY..YYYY` (also with
    /// Persian or Arabic digits), refusing dates after `today` and before
    /// [`EARLIEST_YEAR`].
    pub fn parse(field: &str, raw: &str, today: Date) -> Result<Option<Self>, FieldError> {
        let ascii: String = raw
            .trim()
            .chars()
            .map(|c| match c {
                '۰'..='۹' => char::from_digit(c as u32 - '۰' as u32, 10).unwrap_or(c),
                '٠'..='٩' => char::from_digit(c as u32 - '٠' as u32, 10).unwrap_or(c),
                c => c,
            })
            .collect();
        if ascii.is_empty() {
            return Ok(None);
        }
        let err = |r| FieldError::new(field, r);
        let num = |s: &str, len: usize| -> Result<i32, FieldError> {
            if s.len() == len && s.chars().all(|c| c.is_ascii_digit()) {
                s.parse().map_err(|_| err(Reason::InvalidDate))
            } else {
                Err(err(Reason::InvalidDate))
            }
        };
        let value = if let Some((a, b)) = ascii.split_once("..") {
            let (from, to) = (num(a.trim(), 4)?, num(b.trim(), 4)?);
            if from > to || to - from > MAX_RANGE_YEARS {
                return Err(err(Reason::InvalidRange));
            }
            FuzzyDate::Range { from, to }
        } else {
            let parts: Vec<&str> = ascii.split('-').collect();
            match parts.as_slice() {
                [y] => FuzzyDate::Year { year: num(y, 4)? },
                [y, m] => {
                    let month = num(m, 2)?;
                    if !(1..=12).contains(&month) {
                        return Err(err(Reason::InvalidDate));
                    }
                    FuzzyDate::Month {
                        year: num(y, 4)?,
                        month: month as u8,
                    }
                }
                [y, m, d] => {
                    let (year, month, day) = (num(y, 4)?, num(m, 2)?, num(d, 2)?);
                    let month = Month::try_from(month as u8).map_err(|_| err(Reason::InvalidDate))?;
                    let date =
                        Date::from_calendar_date(year, month, day as u8).map_err(|_| err(Reason::InvalidDate))?;
                    FuzzyDate::Day { date }
                }
                _ => return Err(err(Reason::InvalidDate)),
            }
        };
        if value.earliest_year() < EARLIEST_YEAR {
            return Err(err(Reason::DateTooEarly));
        }
        if value.is_after(today) {
            return Err(err(Reason::DateInFuture));
        }
        Ok(Some(value))
    }

    /// The first year the date may fall in.
    pub fn earliest_year(&self) -> i32 {
        match *self {
            FuzzyDate::Day { date } => date.year(),
            FuzzyDate::Month { year, .. } | FuzzyDate::Year { year } => year,
            FuzzyDate::Range { from, .. } => from,
        }
    }

    /// The last year the date may fall in.
    pub fn latest_year(&self) -> i32 {
        match *self {
            FuzzyDate::Range { to, .. } => to,
            _ => self.earliest_year(),
        }
    }

    /// True when even the earliest reading of the date is after `today`.
    fn is_after(&self, today: Date) -> bool {
        match *self {
            FuzzyDate::Day { date } => date > today,
            FuzzyDate::Month { year, month } => (year, month) > (today.year(), today.month() as u8),
            FuzzyDate::Year { year } | FuzzyDate::Range { from: year, .. } => year > today.year(),
        }
    }

    /// Stable code of the precision.
    pub fn precision(&self) -> &'static str {
        match self {
            FuzzyDate::Day { .. } => "day",
            FuzzyDate::Month { .. } => "month",
            FuzzyDate::Year { .. } => "year",
            FuzzyDate::Range { .. } => "range",
        }
    }
}

impl fmt::Display for FuzzyDate {
    /// The same textual form [`FuzzyDate::parse`] reads.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match *self {
            FuzzyDate::Day { date } => write!(f, "{:04}-{:02}-{:02}", date.year(), date.month() as u8, date.day()),
            FuzzyDate::Month { year, month } => write!(f, "{year:04}-{month:02}"),
            FuzzyDate::Year { year } => write!(f, "{year:04}"),
            FuzzyDate::Range { from, to } => write!(f, "{from:04}..{to:04}"),
        }
    }
}

/// Reads an exact calendar day written as ISO 8601 `YYYY-MM-DD` (what an
/// HTML date input sends), naming `field` when it is not one.
pub fn day(field: &str, raw: &str) -> Result<Date, FieldError> {
    Date::parse(raw.trim(), iso::FORMAT).map_err(|_| FieldError::new(field, Reason::InvalidDate))
}

/// Serde for a calendar day as ISO 8601 `YYYY-MM-DD` text (the form the
/// JSON API and the ledger use), for `#[serde(with = "crate::date::iso")]`.
pub mod iso {
    use serde::{Deserialize, Deserializer, Serializer};
    use time::Date;

    pub(super) const FORMAT: &[time::format_description::FormatItem<'static>] =
        time::macros::format_description!("[year]-[month]-[day]");

    /// Writes `YYYY-MM-DD`.
    pub fn serialize<S: Serializer>(d: &Date, s: S) -> Result<S::Ok, S::Error> {
        let text = d.format(FORMAT).map_err(serde::ser::Error::custom)?;
        s.serialize_str(&text)
    }

    /// Reads `YYYY-MM-DD`.
    pub fn deserialize<'de, D: Deserializer<'de>>(d: D) -> Result<Date, D::Error> {
        let text = String::deserialize(d)?;
        Date::parse(text.trim(), FORMAT).map_err(serde::de::Error::custom)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use time::macros::date;

    const TODAY: Date = date!(2026 - 11 - 27);

    fn p(s: &str) -> Result<Option<FuzzyDate>, Reason> {
        FuzzyDate::parse("birth_date", s, TODAY).map_err(|e| e.reason)
    }

    #[test]
    fn parses_each_precision_and_round_trips() {
        for s in ["1985-03-12", "1985-03", "1985", "1980..1985"] {
            let d = p(s).unwrap().unwrap();
            assert_eq!(d.to_string(), s);
        }
        assert_eq!(p("۱۹۸۵").unwrap(), Some(FuzzyDate::Year { year: 1985 }));
        assert_eq!(p(""), Ok(None));
    }

    #[test]
    fn refuses_invalid_dates() {
        assert_eq!(p("1985-02-30"), Err(Reason::InvalidDate));
        assert_eq!(p("1985-13"), Err(Reason::InvalidDate));
        assert_eq!(p("85"), Err(Reason::InvalidDate));
        assert_eq!(p("1985-3-1"), Err(Reason::InvalidDate));
        assert_eq!(p("abcd"), Err(Reason::InvalidDate));
        assert_eq!(p("1990..1980"), Err(Reason::InvalidRange));
        assert_eq!(p("1900..1950"), Err(Reason::InvalidRange));
        assert_eq!(p("1850"), Err(Reason::DateTooEarly));
        assert_eq!(p("2026-11-28"), Err(Reason::DateInFuture));
        assert_eq!(p("2026-12"), Err(Reason::DateInFuture));
        assert_eq!(p("2027"), Err(Reason::DateInFuture));
        assert!(p("2026-11-27").is_ok());
    }

    #[test]
    fn years_span() {
        let r = p("1980..1985").unwrap().unwrap();
        assert_eq!((r.earliest_year(), r.latest_year()), (1980, 1985));
    }
}
