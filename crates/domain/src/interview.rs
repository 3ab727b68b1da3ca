//! Interview scheduling: rooms at sites, interpreters and their languages,
//! interviews booked in time slots, and the rule that nothing is booked
//! twice at once.
//!
//! An interview occupies its room, its interviewer, its interpreter (if
//! any) and its resident from `starts_at` to `ends_at`; two interviews that
//! are scheduled or were held may not overlap on any of them. The interview
//! is private: only the resident, the interviewer and the interpreter are
//! present, and anyone else present is recorded as an obstacle.

use time::{Duration, OffsetDateTime};

use crate::error::{FieldError, Reason};
use crate::names::LanguageTag;
use crate::person::{code_enum, id_type};
use crate::text::required_text;

id_type!(
    /// Identifies an interview.
    InterviewId
);
id_type!(
    /// Identifies an interview room.
    RoomId
);
id_type!(
    /// Identifies an interpreter.
    InterpreterId
);

code_enum!(
    /// What became of an interview.
    InterviewStatus {
        /// Booked.
        Scheduled = "scheduled",
        /// Took place.
        Held = "held",
        /// The resident did not come.
        NoShow = "no_show",
        /// Called off (the case waits for a new date).
        Cancelled = "cancelled",
    }
);

impl InterviewStatus {
    /// Whether the interview occupies its people and room (a cancelled or
    /// missed one frees them).
    pub fn occupies(self) -> bool {
        matches!(self, InterviewStatus::Scheduled | InterviewStatus::Held)
    }
}

/// Shortest and longest interview, in minutes.
pub const MINUTES: std::ops::RangeInclusive<i64> = 15..=480;

/// An interview's length from a form (`60`), in minutes.
pub fn duration(field: &str, raw: &str) -> Result<Duration, FieldError> {
    let minutes: i64 = raw
        .trim()
        .parse()
        .map_err(|_| FieldError::new(field, Reason::InvalidNumber))?;
    if !MINUTES.contains(&minutes) {
        return Err(FieldError::new(field, Reason::InvalidRange));
    }
    Ok(Duration::minutes(minutes))
}

/// A time slot, half-open: `[start, end)`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Slot {
    /// Start.
    pub start: OffsetDateTime,
    /// End (after the start).
    pub end: OffsetDateTime,
}

impl Slot {
    /// A slot of `length` from `start`.
    pub fn new(start: OffsetDateTime, length: Duration) -> Self {
        Slot {
            start,
            end: start + length,
        }
    }

    /// Whether the two slots share any instant (touching ends do not).
    pub fn overlaps(&self, other: &Slot) -> bool {
        self.start < other.end && other.start < self.end
    }
}

/// An interpreter's languages from a form (`fa, ar, prs-AF`): at least
/// one, each a language tag, without repeats, at most 20.
pub fn languages(field: &str, raw: &str) -> Result<Vec<LanguageTag>, FieldError> {
    let mut out: Vec<LanguageTag> = Vec::new();
    for part in raw.split([',', ' ', '،']).filter(|p| !p.trim().is_empty()) {
        if let Some(tag) = LanguageTag::parse(field, part)? {
            if !out.contains(&tag) {
                out.push(tag);
            }
        }
    }
    if out.is_empty() {
        return Err(FieldError::new(field, Reason::Required));
    }
    if out.len() > 20 {
        return Err(FieldError::new(field, Reason::TooLong { max: 20 }));
    }
    Ok(out)
}

code_enum!(
    /// Whose availability: an interviewer (a user) or an interpreter.
    ResourceKind {
        /// A user with the interviewer role.
        Interviewer = "interviewer",
        /// An interpreter.
        Interpreter = "interpreter",
    }
);

/// A weekly window of availability, in UTC: a weekday and a time range.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Window {
    /// The weekday.
    pub weekday: time::Weekday,
    /// From (inclusive).
    pub starts: time::Time,
    /// Until (exclusive), after `starts`.
    pub ends: time::Time,
}

impl Window {
    /// Whether the slot lies wholly inside this window (on one day).
    pub fn contains(&self, slot: &Slot) -> bool {
        slot.start.date() == slot.end.date()
            && slot.start.weekday() == self.weekday
            && slot.start.time() >= self.starts
            && slot.end.time() <= self.ends
    }

    /// The text form: `mon 09:00-17:00`.
    pub fn to_text(&self) -> String {
        let day = &WEEKDAYS[self.weekday.number_days_from_monday() as usize];
        format!(
            "{day} {:02}:{:02}-{:02}:{:02}",
            self.starts.hour(),
            self.starts.minute(),
            self.ends.hour(),
            self.ends.minute()
        )
    }
}

const WEEKDAYS: [&str; 7] = ["mon", "tue", "wed", "thu", "fri", "sat", "sun"];

/// Weekly windows as text, the form [`windows`] reads back
/// (`mon 09:00-17:00; tue 09:00-12:30`; none: empty).
pub fn windows_text(windows: &[Window]) -> String {
    windows.iter().map(Window::to_text).collect::<Vec<_>>().join("; ")
}

/// Weekly windows from text such as `mon 09:00-17:00; tue 09:00-12:30`
/// (separated by `;`, `,` or new lines; empty text is no window: available
/// at any time).
pub fn windows(field: &str, raw: &str) -> Result<Vec<Window>, FieldError> {
    let bad = || FieldError::new(field, Reason::InvalidFormat);
    let hm =
        |t: &str| time::Time::parse(t.trim(), time::macros::format_description!("[hour]:[minute]")).map_err(|_| bad());
    let mut out = Vec::new();
    for part in raw.split([';', ',', '\n']).map(str::trim).filter(|p| !p.is_empty()) {
        let (day, range) = part.split_once(char::is_whitespace).ok_or_else(bad)?;
        let index = WEEKDAYS
            .iter()
            .position(|d| d.eq_ignore_ascii_case(day.trim()))
            .ok_or_else(bad)?;
        let weekday = time::Weekday::Monday.nth_next(index as u8);
        let (from, until) = range.split_once('-').ok_or_else(bad)?;
        let (starts, ends) = (hm(from)?, hm(until)?);
        if ends <= starts {
            return Err(FieldError::new(field, Reason::InvalidRange));
        }
        out.push(Window { weekday, starts, ends });
    }
    if out.len() > 50 {
        return Err(FieldError::new(field, Reason::TooLong { max: 50 }));
    }
    Ok(out)
}

/// Whether `slot` fits the windows (no window at all: always).
pub fn available(windows: &[Window], slot: &Slot) -> bool {
    windows.is_empty() || windows.iter().any(|w| w.contains(slot))
}

/// A room's or an interpreter's name (required, at most 100 characters).
pub fn name(field: &str, raw: &str) -> Result<String, FieldError> {
    required_text(field, raw, 100)
}

#[cfg(test)]
mod tests {
    use super::*;
    use time::macros::datetime;

    #[test]
    fn slots_overlap_unless_they_only_touch() {
        let nine = Slot::new(datetime!(2026-03-02 09:00 UTC), Duration::hours(1));
        let ten = Slot::new(datetime!(2026-03-02 10:00 UTC), Duration::hours(1));
        let half_past = Slot::new(datetime!(2026-03-02 09:30 UTC), Duration::hours(1));
        assert!(!nine.overlaps(&ten) && !ten.overlaps(&nine));
        assert!(nine.overlaps(&half_past) && half_past.overlaps(&ten));
        assert!(nine.overlaps(&nine));
    }

    #[test]
    fn weekly_windows_are_read_and_contain_slots() {
        let w = windows("availability", "Mon 09:00-12:00; wed 13:30-17:00\nfri 08:00-09:00").unwrap();
        assert_eq!(w.len(), 3);
        assert_eq!(w[1].to_text(), "wed 13:30-17:00");
        // 2026-03-02 is a Monday.
        let at = |h: u8, m: u8, len: i64| {
            Slot::new(
                datetime!(2026-03-02 00:00 UTC) + Duration::minutes(i64::from(h) * 60 + i64::from(m)),
                Duration::minutes(len),
            )
        };
        assert!(available(&w, &at(9, 0, 60)));
        assert!(available(&w, &at(11, 0, 60)), "ends exactly at the window's end");
        assert!(!available(&w, &at(11, 30, 60)), "runs past the window");
        assert!(!available(&w, &at(13, 30, 30)), "Wednesday's window, not Monday's");
        assert!(available(&[], &at(3, 0, 30)), "no window: always");
        assert_eq!(
            windows("a", "mon 12:00-09:00").unwrap_err().reason,
            Reason::InvalidRange
        );
        assert_eq!(
            windows("a", "someday 09:00-10:00").unwrap_err().reason,
            Reason::InvalidFormat
        );
        assert_eq!(windows("a", " ").unwrap(), vec![]);
    }

    #[test]
    fn durations_and_languages_are_checked() {
        assert_eq!(duration("m", " 45 ").unwrap(), Duration::minutes(45));
        assert_eq!(duration("m", "5").unwrap_err().reason, Reason::InvalidRange);
        assert_eq!(duration("m", "an hour").unwrap_err().reason, Reason::InvalidNumber);
        let langs = languages("languages", "fa, AR ، fa prs-AF").unwrap();
        let codes: Vec<&str> = langs.iter().map(|l| l.as_str()).collect();
        assert_eq!(codes, ["fa", "ar", "prs-af"]);
        assert_eq!(languages("languages", " , ").unwrap_err().reason, Reason::Required);
        assert_eq!(
            languages("languages", "farsi!").unwrap_err().reason,
            Reason::InvalidFormat
        );
    }
}
