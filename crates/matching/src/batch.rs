//! The batch contract used by the project's evaluations (keep it stable):
//! UTF-8 CSV files with the header
//! `id,name,aliases,sex,birth_date,birth_place,nationality,father_name,mother_name`
//! (aliases separated by `|`), results as `query_id,rank,person_id,probability`.
//! Malformed rows are reported with their line number and skipped; the
//! caller exits non-zero at the end if any row was rejected.

use std::io::{Read, Write};

use crate::fields::Details;
use crate::{Matcher, Record};

/// The expected header.
pub const HEADER: [&str; 9] = [
    "id",
    "name",
    "aliases",
    "sex",
    "birth_date",
    "birth_place",
    "nationality",
    "father_name",
    "mother_name",
];

/// A row as read.
#[derive(Debug, Clone)]
pub struct Row {
    /// Identifier.
    pub id: String,
    /// Name and aliases, primary first.
    pub names: Vec<String>,
    /// The other fields.
    pub details: Details,
}

impl Row {
    /// The names as the matcher takes them.
    pub fn name_refs(&self) -> Vec<&str> {
        self.names.iter().map(String::as_str).collect()
    }

    /// The row as the matcher registers it.
    pub fn record(&self) -> Record {
        Record::with_details(self.id.clone(), &self.name_refs(), &self.details)
    }
}

/// A refused row.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RowError {
    /// Line number in the file (the header is line 1).
    pub line: u64,
    /// Why.
    pub reason: String,
}

/// Reads a registry or query file; returns the good rows and the refused ones.
pub fn read(input: impl Read) -> Result<(Vec<Row>, Vec<RowError>), String> {
    let mut rows = Vec::new();
    let mut seen = std::collections::HashSet::new();
    let errors = read_each(input, |row| {
        if !seen.insert(row.id.clone()) {
            return Err(twice(&row.id));
        }
        rows.push(row);
        Ok(())
    })?;
    Ok((rows, errors))
}

/// Reads a registry file straight into a matcher; returns it and the
/// refused rows. The rows are never held all at once: at a million rows
/// they took three quarters of a gigabyte, and the memory they left
/// behind stayed with the process through a deduplication.
pub fn read_matcher(input: impl Read) -> Result<(Matcher, Vec<RowError>), String> {
    let mut m = Matcher::new();
    let errors = read_each(input, |row| {
        if m.contains(&row.id) {
            return Err(twice(&row.id));
        }
        m.add(row.record());
        Ok(())
    })?;
    Ok((m, errors))
}

fn twice(id: &str) -> String {
    format!("id: {id} appears twice")
}

/// Reads a registry or query file row by row, handing each well-formed row
/// to `take`, which may refuse it (with the reason, field first); returns
/// the refused rows. Fails only on a missing or wrong header.
pub fn read_each(input: impl Read, mut take: impl FnMut(Row) -> Result<(), String>) -> Result<Vec<RowError>, String> {
    let mut reader = csv::ReaderBuilder::new().flexible(true).from_reader(input);
    let header = reader.headers().map_err(|e| format!("line 1: {e}"))?.clone();
    let names: Vec<&str> = header.iter().collect();
    if names != HEADER {
        return Err(format!("line 1: the header must be {}", HEADER.join(",")));
    }
    let mut errors = Vec::new();
    for result in reader.records() {
        let record = match result {
            Ok(r) => r,
            Err(e) => {
                let line = e.position().map(|p| p.line()).unwrap_or(0);
                errors.push(RowError {
                    line,
                    reason: format!("not valid CSV: {e}"),
                });
                continue;
            }
        };
        let line = record.position().map(|p| p.line()).unwrap_or(0);
        let refuse = |reason: &str| RowError {
            line,
            reason: reason.to_string(),
        };
        if record.len() != HEADER.len() {
            errors.push(refuse(&format!("{} fields, expected {}", record.len(), HEADER.len())));
            continue;
        }
        let id = record[0].trim().to_string();
        if id.is_empty() {
            errors.push(refuse("id: required"));
            continue;
        }
        let mut names: Vec<String> = vec![record[1].trim().to_string()];
        names.extend(record[2].split('|').map(|a| a.trim().to_string()));
        names.retain(|n| !n.is_empty());
        if names.is_empty() {
            errors.push(refuse("name: required (a name or an alias)"));
            continue;
        }
        let birth = record[4].trim();
        if !birth.is_empty() && !valid_date(birth) {
            errors.push(refuse("birth_date: expected YYYY, YYYY-MM or YYYY-MM-DD"));
            continue;
        }
        let field = |i: usize| Some(record[i].trim().to_string()).filter(|s| !s.is_empty());
        let row = Row {
            id,
            names,
            details: Details {
                sex: field(3),
                birth_date: field(4),
                birth_place: field(5),
                nationality: field(6),
                father_name: field(7),
                mother_name: field(8),
            },
        };
        if let Err(reason) = take(row) {
            errors.push(refuse(&reason));
        }
    }
    Ok(errors)
}

fn valid_date(s: &str) -> bool {
    let parts: Vec<&str> = s.split('-').collect();
    let digits = |p: &str, n: usize| p.len() == n && p.bytes().all(|b| b.is_ascii_digit());
    match parts.as_slice() {
        [y] => digits(y, 4),
        [y, m] => digits(y, 4) && digits(m, 2) && (1..=12).contains(&m.parse::<u32>().unwrap_or(0)),
        [y, m, d] => {
            digits(y, 4)
                && digits(m, 2)
                && digits(d, 2)
                && (1..=12).contains(&m.parse::<u32>().unwrap_or(0))
                && (1..=31).contains(&d.parse::<u32>().unwrap_or(0))
        }
        _ => false,
    }
}

/// Builds a matcher from registry rows.
pub fn matcher(rows: &[Row]) -> Matcher {
    let mut m = Matcher::new();
    for r in rows {
        m.add(r.record());
    }
    m
}

/// Queries with enough other fields to estimate `m` from: below this the
/// defaults are kept.
pub const ESTIMATE_FROM: usize = 200;

/// Re-estimates `m` by expectation–maximisation on these queries' best
/// candidates (see [`crate::fields::estimate_m`]), when at least
/// [`ESTIMATE_FROM`] of them give a field besides names; returns whether
/// it did.
pub fn estimate(m: &mut Matcher, queries: &[Row]) -> bool {
    let with_fields: Vec<(Vec<&str>, Details)> = queries
        .iter()
        .filter(|q| !q.details.is_empty())
        .map(|q| (q.name_refs(), q.details.clone()))
        .collect();
    if with_fields.len() < ESTIMATE_FROM {
        return false;
    }
    let pairs = m.pairs(&with_fields, 10);
    let fitted = crate::fields::estimate_m(&pairs, m.m(), 20);
    m.set_m(fitted);
    true
}

/// A CSV writer's error as an I/O error of the same kind as the one
/// inside it, if any (a closed pipe stays `BrokenPipe`, which callers
/// tell apart), where `?` would make every one `Other`.
fn io(e: csv::Error) -> std::io::Error {
    match e.kind() {
        csv::ErrorKind::Io(inner) => std::io::Error::new(inner.kind(), e),
        _ => std::io::Error::other(e),
    }
}

/// Writes clusters as `cluster_id,person_id,probability` (clusters of two
/// or more records; the probability is the member's mean probability of
/// being the same person as the others).
pub fn write_clusters(outcome: &crate::dedupe::Outcome, out: impl Write) -> std::io::Result<()> {
    let mut w = csv::Writer::from_writer(out);
    w.write_record(["cluster_id", "person_id", "probability"]).map_err(io)?;
    for (n, cluster) in outcome.clusters.iter().enumerate() {
        for (id, p) in cluster {
            w.write_record([format!("c{}", n + 1), id.clone(), format!("{p:.4}")])
                .map_err(io)?;
        }
    }
    w.flush()
}

/// Writes the pairs left for review as `person_id,other_id,probability`.
pub fn write_review(outcome: &crate::dedupe::Outcome, out: impl Write) -> std::io::Result<()> {
    let mut w = csv::Writer::from_writer(out);
    w.write_record(["person_id", "other_id", "probability"]).map_err(io)?;
    for (a, b, p) in &outcome.review {
        w.write_record([a.as_str(), b.as_str(), &format!("{p:.4}")])
            .map_err(io)?;
    }
    w.flush()
}

/// Writes rows in the batch format.
pub fn write_rows(rows: &[Row], out: impl Write) -> std::io::Result<()> {
    let mut w = csv::Writer::from_writer(out);
    w.write_record(HEADER).map_err(io)?;
    for r in rows {
        let d = &r.details;
        let f = |v: &Option<String>| v.clone().unwrap_or_default();
        w.write_record([
            r.id.clone(),
            r.names.first().cloned().unwrap_or_default(),
            r.names.get(1..).unwrap_or_default().join("|"),
            f(&d.sex),
            f(&d.birth_date),
            f(&d.birth_place),
            f(&d.nationality),
            f(&d.father_name),
            f(&d.mother_name),
        ])
        .map_err(io)?;
    }
    w.flush()
}

/// Writes the results of every query. With `features`, adds the columns
/// the calibration is fitted on (`score`, `margin`).
pub fn write_results(m: &Matcher, queries: &[Row], top: usize, features: bool, out: impl Write) -> std::io::Result<()> {
    let mut w = csv::Writer::from_writer(out);
    if features {
        w.write_record(["query_id", "rank", "person_id", "probability", "score", "margin"])
            .map_err(io)?;
    } else {
        w.write_record(["query_id", "rank", "person_id", "probability"])
            .map_err(io)?;
    }
    for q in queries {
        let names = q.name_refs();
        let found = m.search_with(&names, &q.details, top);
        let (first, second) = (
            found.first().map_or(0.0, |c| c.score),
            found.get(1).map_or(0.0, |c| c.score),
        );
        for (rank, c) in found.iter().enumerate() {
            let mut row = vec![
                q.id.clone(),
                (rank + 1).to_string(),
                c.id.clone(),
                format!("{:.4}", c.probability),
            ];
            if features {
                let margin = crate::margin(c.score, first, second);
                row.push(format!("{:.6}", c.score));
                row.push(format!("{margin:.6}"));
            }
            w.write_record(&row).map_err(io)?;
        }
    }
    w.flush()
}

#[cfg(test)]
mod tests {
    use super::*;

    const HEAD: &str = "id,name,aliases,sex,birth_date,birth_place,nationality,father_name,mother_name\n";

    #[test]
    fn reads_rows_and_reports_bad_ones_by_line() {
        let text = format!(
            "{HEAD}p1,مسعود,Masoud|Massoud,,1970,,,,\np2,,,,,,,,\np3,Ali,,,19x0,,,,\np1,Again,,,,,,,\np4,Too,few\np5,Reza,,,1980-02,,,,\n"
        );
        let (rows, errors) = read(text.as_bytes()).unwrap();
        let ids: Vec<&str> = rows.iter().map(|r| r.id.as_str()).collect();
        assert_eq!(ids, ["p1", "p5"]);
        assert_eq!(rows[0].names, ["مسعود", "Masoud", "Massoud"]);
        let lines: Vec<u64> = errors.iter().map(|e| e.line).collect();
        assert_eq!(lines, [3, 4, 5, 6]);
        assert!(errors[1].reason.starts_with("birth_date"));
        assert!(errors[2].reason.contains("twice"));
    }

    #[test]
    fn a_registry_read_into_a_matcher_refuses_what_a_read_refuses() {
        let text = format!(
            "{HEAD}p1,مسعود,Masoud|Massoud,,1970,,,,\np2,,,,,,,,\np3,Ali,,,19x0,,,,\np1,Again,,,,,,,\np4,Too,few\np5,Reza,,,1980-02,,,,\n"
        );
        let (m, errors) = read_matcher(text.as_bytes()).unwrap();
        let (rows, refused) = read(text.as_bytes()).unwrap();
        assert_eq!(errors, refused);
        assert_eq!(m.len(), rows.len());
        assert!(m.contains("p1") && m.contains("p5") && !m.contains("p3"));
        // The first row of an identifier stands, as in a read.
        assert_eq!(m.search(&["Again"], 1).len(), 0);
        assert_eq!(m.search(&["Massoud"], 1)[0].id, "p1");
        assert!(read_matcher("id,name\n".as_bytes()).is_err());
    }

    #[test]
    fn refuses_a_wrong_header() {
        assert!(read("id,name\n".as_bytes()).is_err());
    }

    #[test]
    fn writes_the_result_contract() {
        let (reg, _) = read(format!("{HEAD}p1,مسعود,,,,,,,\np2,محمود,,,,,,,\n").as_bytes()).unwrap();
        let (q, _) = read(format!("{HEAD}q1,Masoud,,,,,,,\n").as_bytes()).unwrap();
        let mut out = Vec::new();
        write_results(&matcher(&reg), &q, 2, false, &mut out).unwrap();
        let text = String::from_utf8(out).unwrap();
        let mut lines = text.lines();
        assert_eq!(lines.next(), Some("query_id,rank,person_id,probability"));
        assert!(lines.next().unwrap().starts_with("q1,1,p1,"));
    }
}
