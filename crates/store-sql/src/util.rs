//! Conversions between stored values and domain values.

use lantern_store::StoreError;
use time::format_description::FormatItem;
use time::macros::format_description;
use time::{OffsetDateTime, PrimitiveDateTime, UtcOffset};

/// Fixed-width UTC timestamps, so text order is time order.
const TS: &[FormatItem<'static>] =
    format_description!("[year]-[month]-[day]T[hour]:[minute]:[second].[subsecond digits:6]Z");

/// Formats a time for storage.
pub fn fmt_ts(t: OffsetDateTime) -> String {
    t.to_offset(UtcOffset::UTC)
        .format(TS)
        .unwrap_or_else(|_| String::from("0000-00-00T00:00:00.000000Z"))
}

/// Parses a stored time.
pub fn parse_ts(s: &str) -> Result<OffsetDateTime, StoreError> {
    PrimitiveDateTime::parse(s, TS)
        .map(|t| t.assume_utc())
        .map_err(StoreError::backend)
}

/// Formats a calendar day as stored: `YYYY-MM-DD`.
pub(crate) fn fmt_day(d: time::Date) -> String {
    d.format(format_description!("[year]-[month]-[day]"))
        .unwrap_or_default()
}

/// Parses a stored calendar day.
pub(crate) fn parse_day(raw: &str) -> Result<time::Date, StoreError> {
    time::Date::parse(raw, format_description!("[year]-[month]-[day]")).map_err(StoreError::backend)
}

/// A time as RFC 3339 text, the form log entries use.
pub(crate) fn rfc3339(t: OffsetDateTime) -> Result<String, StoreError> {
    t.format(&time::format_description::well_known::Rfc3339)
        .map_err(StoreError::backend)
}

/// Parses a stored UUID.
pub(crate) fn parse_id(s: &str) -> Result<uuid::Uuid, StoreError> {
    uuid::Uuid::parse_str(s).map_err(StoreError::backend)
}

/// Wraps a JSON error.
pub(crate) fn json(e: serde_json::Error) -> StoreError {
    StoreError::backend(e)
}
