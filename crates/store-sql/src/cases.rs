//! Status and resettlement cases: steps, obstacles and the pipeline's
//! figures. Every change writes its audit event and its log entry in the
//! same transaction.

use lantern_domain::audit::AuditAction;
use lantern_domain::case::{CaseId, CaseNoteId, CaseStep, NoteKind, ObstacleId, ObstacleKind};
use lantern_domain::interview::InterviewStatus;
use lantern_domain::person::{HouseholdId, PersonId};
use lantern_domain::{FieldError, Reason};
use lantern_store::{
    AuditContext, Case, CaseNote, CaseQuery, CaseStepRecord, CaseSummary, Departures, NewCaseNote, NewObstacle,
    Obstacle, Page, Pipeline, PipelineQuery, StepFigures, StoreError, StoreResult, WeekFigures,
};
use time::OffsetDateTime;

use crate::sql::{Backend, Conn, ConnExt, Row, Value};
use crate::util::{fmt_ts, parse_id, parse_ts};
use crate::{insert_audit, params, SqlStore};

fn step_of(raw: &str) -> StoreResult<CaseStep> {
    CaseStep::parse("step", raw).map_err(StoreError::backend)
}

/// Appends a case's (or an obstacle's) log entry: salted commitments to its fields.
fn log_entry(
    tx: &dyn Conn,
    kind: &str,
    record_kind: &str,
    id: &str,
    version: Option<i64>,
    fields: &[(&str, Option<&str>)],
    at: OffsetDateTime,
) -> StoreResult<()> {
    let mut c = lantern_ledger::entry::Commitments::new();
    for (name, value) in fields {
        c.add(name, value, crate::ledger::salt()?);
    }
    crate::ledger::append(
        tx,
        crate::ledger::EntryHead {
            kind,
            record_kind,
            record_id: id,
            version,
            at,
        },
        c,
    )?;
    Ok(())
}

/// The case columns every read selects, joined with the resident, the
/// household and the site.
const CASE_COLUMNS: &str = "c.id, c.version, c.person_id, p.display_name, c.household_id, h.label, s.name, c.step, \
     c.step_at, c.country";
const CASE_FROM: &str = "cases c JOIN people p ON p.id = c.person_id LEFT JOIN households h ON h.id = c.household_id \
     LEFT JOIN sites s ON s.id = p.site_id";

fn summary_row(r: &Row) -> StoreResult<CaseSummary> {
    Ok(CaseSummary {
        id: CaseId(parse_id(&r.get::<String>(0)?)?),
        person_name: r.get(3)?,
        household_label: r.get(5)?,
        site: r.get(6)?,
        step: step_of(&r.get::<String>(7)?)?,
        step_at: parse_ts(&r.get::<String>(8)?)?,
        obstacles: r.get(10)?,
    })
}

fn load_case(tx: &dyn Conn, id: CaseId) -> StoreResult<Option<Case>> {
    let Some(r) = tx.query_opt(
        &format!("SELECT {CASE_COLUMNS} FROM {CASE_FROM} WHERE c.id = ?1"),
        params![id.to_string()],
    )?
    else {
        return Ok(None);
    };
    let steps = tx
        .query(
            "SELECT step, at, actor_name, country FROM case_steps WHERE case_id = ?1 ORDER BY seq",
            params![id.to_string()],
        )?
        .into_iter()
        .map(|s| {
            Ok(CaseStepRecord {
                step: step_of(&s.get::<String>(0)?)?,
                at: parse_ts(&s.get::<String>(1)?)?,
                actor_name: s.get(2)?,
                country: s.get(3)?,
            })
        })
        .collect::<StoreResult<Vec<_>>>()?;
    let obstacles = tx
        .query(
            "SELECT id, kind, occurred_on, by_whom, detail, recorded_at, actor_name FROM case_obstacles
             WHERE case_id = ?1 ORDER BY recorded_at, id",
            params![id.to_string()],
        )?
        .into_iter()
        .map(|o| {
            Ok(Obstacle {
                id: ObstacleId(parse_id(&o.get::<String>(0)?)?),
                kind: ObstacleKind::parse("kind", &o.get::<String>(1)?).map_err(StoreError::backend)?,
                occurred_on: crate::util::parse_day(&o.get::<String>(2)?)?,
                by_whom: o.get(3)?,
                detail: o.get(4)?,
                recorded_at: parse_ts(&o.get::<String>(5)?)?,
                actor_name: o.get(6)?,
            })
        })
        .collect::<StoreResult<Vec<_>>>()?;
    Ok(Some(Case {
        id,
        version: r.get(1)?,
        person: PersonId(parse_id(&r.get::<String>(2)?)?),
        person_name: r.get(3)?,
        household: r
            .get::<Option<String>>(4)?
            .map(|h| parse_id(&h).map(HouseholdId))
            .transpose()?,
        household_label: r.get(5)?,
        site: r.get(6)?,
        step: step_of(&r.get::<String>(7)?)?,
        step_at: parse_ts(&r.get::<String>(8)?)?,
        country: r.get(9)?,
        steps,
        obstacles,
    }))
}

/// Appends a step to a case's history (the caller updates the case row).
fn insert_step(
    tx: &dyn Conn,
    id: CaseId,
    seq: i64,
    step: CaseStep,
    country: Option<&str>,
    ctx: &AuditContext,
) -> StoreResult<()> {
    tx.execute(
        "INSERT INTO case_steps (case_id, seq, step, at, actor_id, actor_name, country)
         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7)",
        params![
            id.to_string(),
            seq,
            step.code(),
            fmt_ts(ctx.at),
            ctx.actor_id.map(|a| a.to_string()),
            &ctx.actor_name,
            country
        ],
    )?;
    Ok(())
}

/// Moves a case inside the caller's transaction: checks the expected step
/// and the transition, updates the case, appends the step, the log entry
/// and the audit event.
pub(crate) fn move_in(
    tx: &dyn Conn,
    id: CaseId,
    expected: CaseStep,
    to: CaseStep,
    country: Option<String>,
    ctx: &AuditContext,
) -> StoreResult<()> {
    if to.needs_country() && country.is_none() {
        return Err(FieldError::new("country", Reason::Required).into());
    }
    let country = country.filter(|_| to.needs_country());
    let case = load_case(tx, id)?.ok_or(StoreError::NotFound)?;
    if case.step != expected {
        return Err(StoreError::Conflict { current: case.version });
    }
    case.step.check_next(to)?;
    let version = case.version + 1;
    // A submission names its country; later steps keep it.
    let country = country.or(case.country);
    tx.execute(
        "UPDATE cases SET version = ?2, step = ?3, step_at = ?4, country = ?5, updated_at = ?4 WHERE id = ?1",
        params![id.to_string(), version, to.code(), fmt_ts(ctx.at), country.as_deref()],
    )?;
    insert_step(
        tx,
        id,
        case.steps.len() as i64 + 1,
        to,
        country.as_deref().filter(|_| to.needs_country()),
        ctx,
    )?;
    log_entry(
        tx,
        "record.updated",
        "case",
        &id.to_string(),
        Some(version),
        &[("step", Some(to.code())), ("country", country.as_deref())],
        ctx.at,
    )?;
    insert_audit(
        tx,
        &ctx.event(
            AuditAction::CaseStep,
            "case",
            Some(id.to_string()),
            &format!("{} -> {}", case.step.code(), to.code()),
        ),
    )?;
    Ok(())
}

/// Records an obstacle inside the caller's transaction.
pub(crate) fn insert_obstacle(tx: &dyn Conn, id: CaseId, o: &NewObstacle, ctx: &AuditContext) -> StoreResult<Obstacle> {
    let exists: bool = tx.query_value(
        "SELECT EXISTS(SELECT 1 FROM cases WHERE id = ?1)",
        params![id.to_string()],
    )?;
    if !exists {
        return Err(StoreError::NotFound);
    }
    let oid = ObstacleId::new();
    let day = o.occurred_on.to_string();
    tx.execute(
        "INSERT INTO case_obstacles (id, case_id, kind, occurred_on, by_whom, detail, recorded_at, actor_id,
                                     actor_name)
         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9)",
        params![
            oid.to_string(),
            id.to_string(),
            o.kind.code(),
            day.as_str(),
            o.by_whom.as_deref(),
            o.detail.as_deref(),
            fmt_ts(ctx.at),
            ctx.actor_id.map(|a| a.to_string()),
            &ctx.actor_name
        ],
    )?;
    let case_text = id.to_string();
    log_entry(
        tx,
        "record.created",
        "case_obstacle",
        &oid.to_string(),
        None,
        &[
            ("case_id", Some(&case_text)),
            ("kind", Some(o.kind.code())),
            ("occurred_on", Some(&day)),
            ("by_whom", o.by_whom.as_deref()),
            ("detail", o.detail.as_deref()),
        ],
        ctx.at,
    )?;
    insert_audit(
        tx,
        &ctx.event(
            AuditAction::CaseObstacle,
            "case",
            Some(case_text.clone()),
            o.kind.code(),
        ),
    )?;
    Ok(Obstacle {
        id: oid,
        kind: o.kind,
        occurred_on: o.occurred_on,
        by_whom: o.by_whom.clone(),
        detail: o.detail.clone(),
        recorded_at: ctx.at,
        actor_name: ctx.actor_name.clone(),
    })
}

/// The nearest rank (1-based) of percentile `p` among `n` values: the
/// smallest rank with at least `p` of the values at or below it.
fn nearest_rank(n: u64, p: f64) -> u64 {
    ((p * n as f64).ceil() as u64).clamp(1, n.max(1))
}

impl<B: Backend> SqlStore<B> {
    pub(crate) fn open_case(&self, person: PersonId, whole_household: bool, ctx: &AuditContext) -> StoreResult<Case> {
        self.write(|tx| {
            let row = tx
                .query_opt(
                    "SELECT household_id FROM people WHERE id = ?1 AND deleted_at IS NULL",
                    params![person.to_string()],
                )?
                .ok_or_else(|| StoreError::from(FieldError::new("person_id", Reason::NotFound)))?;
            let household: Option<String> = if whole_household {
                Some(row.get::<Option<String>>(0)?.ok_or_else(|| {
                    StoreError::from(FieldError::new("whole_household", Reason::NotFound))
                })?)
            } else {
                None
            };
            let finals: Vec<String> = CaseStep::ALL
                .iter()
                .filter(|s| s.is_final())
                .map(|s| format!("'{}'", s.code()))
                .collect();
            let open: bool = tx.query_value(
                &format!(
                    "SELECT EXISTS(SELECT 1 FROM cases WHERE person_id = ?1 AND step NOT IN ({}))",
                    finals.join(", ")
                ),
                params![person.to_string()],
            )?;
            if open {
                return Err(FieldError::new("person_id", Reason::Duplicate).into());
            }
            let id = CaseId::new();
            let now = fmt_ts(ctx.at);
            tx.execute(
                "INSERT INTO cases (id, version, person_id, household_id, step, step_at, country, created_at, updated_at)
                 VALUES (?1, 1, ?2, ?3, ?4, ?5, NULL, ?5, ?5)",
                params![
                    id.to_string(),
                    person.to_string(),
                    household.as_deref(),
                    CaseStep::Registered.code(),
                    now.as_str()
                ],
            )?;
            insert_step(tx, id, 1, CaseStep::Registered, None, ctx)?;
            let person_text = person.to_string();
            log_entry(
                tx,
                "record.created",
                "case",
                &id.to_string(),
                Some(1),
                &[
                    ("person_id", Some(&person_text)),
                    ("household_id", household.as_deref()),
                    ("step", Some(CaseStep::Registered.code())),
                ],
                ctx.at,
            )?;
            insert_audit(
                tx,
                &ctx.event(AuditAction::CaseCreate, "case", Some(id.to_string()), &person_text),
            )?;
            load_case(tx, id)?.ok_or(StoreError::NotFound)
        })
    }

    pub(crate) fn get_case(&self, id: CaseId) -> StoreResult<Option<Case>> {
        self.read(|tx| load_case(tx, id))
    }

    pub(crate) fn case_page(&self, q: &CaseQuery) -> StoreResult<Page<CaseSummary>> {
        let mut clauses = vec!["p.deleted_at IS NULL".to_string()];
        let mut args: Vec<Value> = Vec::new();
        if let Some(step) = q.step {
            args.push(step.code().into());
            clauses.push(format!("c.step = ?{}", args.len()));
        }
        if let Some(site) = q.site {
            args.push(site.to_string().into());
            clauses.push(format!("p.site_id = ?{}", args.len()));
        }
        let where_sql = clauses.join(" AND ");
        let page = q.page;
        self.read(|tx| {
            let total: u64 = tx.query_value(
                &format!("SELECT COUNT(*) FROM cases c JOIN people p ON p.id = c.person_id WHERE {where_sql}"),
                &args,
            )?;
            let items = tx
                .query(
                    &format!(
                        "SELECT {CASE_COLUMNS}, (SELECT COUNT(*) FROM case_obstacles o WHERE o.case_id = c.id)
                         FROM {CASE_FROM} WHERE {where_sql} ORDER BY c.step_at, c.id LIMIT {} OFFSET {}",
                        page.size,
                        page.offset()
                    ),
                    &args,
                )?
                .iter()
                .map(summary_row)
                .collect::<StoreResult<Vec<_>>>()?;
            Ok(Page {
                items,
                page: page.page,
                size: page.size,
                total,
                total_is_lower_bound: false,
            })
        })
    }

    pub(crate) fn person_cases(&self, person: PersonId) -> StoreResult<Vec<CaseSummary>> {
        self.read(|tx| {
            tx.query(
                &format!(
                    "SELECT {CASE_COLUMNS}, (SELECT COUNT(*) FROM case_obstacles o WHERE o.case_id = c.id)
                     FROM {CASE_FROM} WHERE c.person_id = ?1 ORDER BY c.created_at, c.id"
                ),
                params![person.to_string()],
            )?
            .iter()
            .map(summary_row)
            .collect()
        })
    }

    pub(crate) fn step_case(
        &self,
        id: CaseId,
        expected: CaseStep,
        to: CaseStep,
        country: Option<String>,
        ctx: &AuditContext,
    ) -> StoreResult<Case> {
        self.write(|tx| {
            move_in(tx, id, expected, to, country, ctx)?;
            // A case that stops waiting for its interview (closed, or sent
            // back to wait for another date) frees the booked slot.
            if expected == CaseStep::InterviewScheduled && (to.is_closure() || to == CaseStep::InterviewRequested) {
                crate::interviews::cancel_scheduled(tx, id, ctx)?;
            }
            load_case(tx, id)?.ok_or(StoreError::NotFound)
        })
    }

    pub(crate) fn record_obstacle(&self, id: CaseId, o: &NewObstacle, ctx: &AuditContext) -> StoreResult<Obstacle> {
        self.write(|tx| insert_obstacle(tx, id, o, ctx))
    }

    pub(crate) fn pipeline_figures(&self, q: &PipelineQuery, now: OffsetDateTime) -> StoreResult<Pipeline> {
        let (join, filter, args): (&str, &str, Vec<Value>) = match q.site {
            Some(s) => (
                "JOIN people p ON p.id = c.person_id",
                "AND p.site_id = ?1",
                vec![s.to_string().into()],
            ),
            None => ("", "", Vec::new()),
        };
        // The period, as extra conditions numbered after the site's.
        let period = |column: &str, from: Option<String>, until: Option<String>| {
            let mut clauses = String::new();
            let mut more = args.clone();
            if let Some(f) = from {
                more.push(f.into());
                clauses.push_str(&format!(" AND {column} >= ?{}", more.len()));
            }
            if let Some(u) = until {
                more.push(u.into());
                clauses.push_str(&format!(" AND {column} < ?{}", more.len()));
            }
            (clauses, more)
        };
        let day_after = |d: time::Date| d.next_day().map(|n| n.to_string());
        let midnight = |d: time::Date| fmt_ts(d.midnight().assume_utc());
        self.read(|tx| {
            // Counted in the database, never by loading every case: the
            // counts per step, then for each open step the case at the
            // median and 90th-percentile rank of waiting (the nearest rank,
            // read through the (step, step_at) index).
            let mut current: std::collections::HashMap<String, u64> = std::collections::HashMap::new();
            for r in tx.query(
                &format!("SELECT c.step, COUNT(*) FROM cases c {join} WHERE 1 = 1 {filter} GROUP BY c.step"),
                &args,
            )? {
                current.insert(r.get(0)?, r.get(1)?);
            }
            let waiting_at = |step: CaseStep, p: f64| -> StoreResult<Option<f64>> {
                let n = current.get(step.code()).copied().unwrap_or(0);
                if n == 0 || step.is_final() {
                    return Ok(None);
                }
                let rank = nearest_rank(n, p);
                let mut more = args.clone();
                more.push(step.code().into());
                // Longest waits have the oldest step_at: waiting ascending
                // is step_at descending.
                let since: String = tx.query_value(
                    &format!(
                        "SELECT c.step_at FROM cases c {join} WHERE c.step = ?{} {filter}
                         ORDER BY c.step_at DESC LIMIT 1 OFFSET {}",
                        more.len(),
                        rank - 1
                    ),
                    &more,
                )?;
                Ok(Some((now - parse_ts(&since)?).as_seconds_f64() / 86_400.0))
            };
            let mut waits = Vec::new();
            for step in CaseStep::PIPELINE {
                waits.push((waiting_at(*step, 0.5)?, waiting_at(*step, 0.9)?));
            }
            let mut reached: std::collections::HashMap<String, u64> = std::collections::HashMap::new();
            let reached_sql = if q.site.is_some() {
                format!(
                    "SELECT s.step, COUNT(DISTINCT s.case_id) FROM case_steps s JOIN cases c ON c.id = s.case_id {join}
                     WHERE 1 = 1 {filter} GROUP BY s.step"
                )
            } else {
                "SELECT step, COUNT(DISTINCT case_id) FROM case_steps GROUP BY step".to_string()
            };
            for r in tx.query(&reached_sql, &args)? {
                reached.insert(r.get(0)?, r.get(1)?);
            }
            let steps = CaseStep::PIPELINE
                .iter()
                .zip(waits)
                .map(|(step, (median, p90))| StepFigures {
                    step: *step,
                    current: current.get(step.code()).copied().unwrap_or(0),
                    reached: reached.get(step.code()).copied().unwrap_or(0),
                    waiting_median_days: median,
                    waiting_p90_days: p90,
                })
                .collect();
            let (when, when_args) = period(
                "o.occurred_on",
                q.from.map(|d| d.to_string()),
                q.until.and_then(day_after),
            );
            let obstacles = tx
                .query(
                    &format!(
                        "SELECT o.kind, COUNT(*) FROM case_obstacles o JOIN cases c ON c.id = o.case_id {join}
                         WHERE 1 = 1 {filter}{when} GROUP BY o.kind ORDER BY 2 DESC, 1"
                    ),
                    &when_args,
                )?
                .into_iter()
                .map(|r| {
                    Ok((
                        ObstacleKind::parse("kind", &r.get::<String>(0)?).map_err(StoreError::backend)?,
                        r.get(1)?,
                    ))
                })
                .collect::<StoreResult<Vec<_>>>()?;
            // Interviews per week (Monday first), by their start.
            let (when, when_args) = period(
                "i.starts_at",
                q.from.map(midnight),
                q.until.and_then(|d| d.next_day()).map(midnight),
            );
            let mut weeks: std::collections::BTreeMap<time::Date, WeekFigures> = std::collections::BTreeMap::new();
            for r in tx.query(
                &format!(
                    "SELECT i.starts_at, i.status FROM interviews i JOIN cases c ON c.id = i.case_id {join}
                     WHERE 1 = 1 {filter}{when}"
                ),
                &when_args,
            )? {
                let day = parse_ts(&r.get::<String>(0)?)?.date();
                let monday = day - time::Duration::days(i64::from(day.weekday().number_days_from_monday()));
                let w = weeks.entry(monday).or_insert(WeekFigures {
                    week: monday,
                    scheduled: 0,
                    held: 0,
                    no_show: 0,
                    cancelled: 0,
                });
                match InterviewStatus::parse("status", &r.get::<String>(1)?).map_err(StoreError::backend)? {
                    InterviewStatus::Scheduled => w.scheduled += 1,
                    InterviewStatus::Held => w.held += 1,
                    InterviewStatus::NoShow => w.no_show += 1,
                    InterviewStatus::Cancelled => w.cancelled += 1,
                }
            }
            // Departures per month and destination.
            let (when, when_args) = period(
                "s.at",
                q.from.map(midnight),
                q.until.and_then(|d| d.next_day()).map(midnight),
            );
            let mut departures: std::collections::BTreeMap<(time::Date, Option<String>), u64> =
                std::collections::BTreeMap::new();
            for r in tx.query(
                &format!(
                    "SELECT s.at, c.country FROM case_steps s JOIN cases c ON c.id = s.case_id {join}
                     WHERE s.step = 'departed' {filter}{when}"
                ),
                &when_args,
            )? {
                let day = parse_ts(&r.get::<String>(0)?)?.date();
                let month = day.replace_day(1).map_err(StoreError::backend)?;
                *departures.entry((month, r.get(1)?)).or_default() += 1;
            }
            let total = current.values().sum();
            Ok(Pipeline {
                steps,
                obstacles,
                weeks: weeks.into_values().collect(),
                departures: departures
                    .into_iter()
                    .map(|((month, country), count)| Departures { month, country, count })
                    .collect(),
                total,
            })
        })
    }
}

/// Purpose under which case notes are sealed.
pub(crate) const NOTE_PURPOSE: &str = "case-note";

pub(crate) fn note_place(case: CaseId, note: CaseNoteId) -> String {
    format!("case/{case}/note/{note}")
}

impl<B: Backend> SqlStore<B> {
    pub(crate) fn write_case_note(&self, case: CaseId, n: &NewCaseNote, ctx: &AuditContext) -> StoreResult<CaseNote> {
        let text = lantern_domain::case::note_text("text", &n.text)?;
        let id = CaseNoteId::new();
        let sealed = self
            .keys()
            .seal(NOTE_PURPOSE, &note_place(case, id), text.as_bytes())
            .map_err(StoreError::backend)?;
        self.write(|tx| {
            let row = tx
                .query_opt(
                    "SELECT c.person_id, c.household_id FROM cases c WHERE c.id = ?1",
                    params![case.to_string()],
                )?
                .ok_or(StoreError::NotFound)?;
            let (principal, household): (String, Option<String>) = (row.get(0)?, row.get(1)?);
            let about = match n.about {
                None => None,
                Some(p) => {
                    // The resident, or a member of the household the case covers.
                    let row = tx.query_opt(
                        "SELECT display_name, household_id FROM people WHERE id = ?1 AND deleted_at IS NULL",
                        params![p.to_string()],
                    )?;
                    let member = row.as_ref().is_some_and(|r| {
                        p.to_string() == principal
                            || (household.is_some() && r.get::<Option<String>>(1).ok().flatten() == household)
                    });
                    match (row, member) {
                        (Some(r), true) => Some((p, r.get::<String>(0)?)),
                        _ => return Err(FieldError::new("about", Reason::NotFound).into()),
                    }
                }
            };
            tx.execute(
                "INSERT INTO case_notes (id, case_id, kind, about_id, confidential, sealed, author_id, author_name, at)
                 VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9)",
                params![
                    id.to_string(),
                    case.to_string(),
                    n.kind.code(),
                    n.about.map(|p| p.to_string()),
                    n.confidential,
                    sealed.clone(),
                    ctx.actor_id.map(|a| a.to_string()),
                    &ctx.actor_name,
                    fmt_ts(ctx.at)
                ],
            )?;
            // The log commits to the sealed text: the note can later be
            // shown unchanged without the log ever holding its words.
            let digest = lantern_ledger::leaf_hash(&sealed);
            let (case_text, digest_hex) = (case.to_string(), hex::encode(digest));
            let about_text = n.about.map(|p| p.to_string());
            log_entry(
                tx,
                "record.created",
                "case_note",
                &id.to_string(),
                None,
                &[
                    ("case_id", Some(&case_text)),
                    ("kind", Some(n.kind.code())),
                    ("about_id", about_text.as_deref()),
                    ("confidential", Some(if n.confidential { "1" } else { "0" })),
                    ("sealed_digest", Some(&digest_hex)),
                ],
                ctx.at,
            )?;
            insert_audit(
                tx,
                &ctx.event(AuditAction::CaseNoteAdd, "case", Some(case_text.clone()), n.kind.code()),
            )?;
            Ok(CaseNote {
                id,
                kind: n.kind,
                about,
                confidential: n.confidential,
                author_name: ctx.actor_name.clone(),
                at: ctx.at,
                text: None,
            })
        })
    }

    fn notes_in(&self, tx: &dyn Conn, case: CaseId, open: bool, household_copy: bool) -> StoreResult<Vec<CaseNote>> {
        let filter = if household_copy { "AND n.confidential = 0" } else { "" };
        tx.query(
            &format!(
                "SELECT n.id, n.kind, n.about_id, p.display_name, n.confidential, n.sealed, n.author_name, n.at
                 FROM case_notes n LEFT JOIN people p ON p.id = n.about_id
                 WHERE n.case_id = ?1 {filter} ORDER BY n.at, n.id"
            ),
            params![case.to_string()],
        )?
        .into_iter()
        .map(|r| {
            let id = CaseNoteId(parse_id(&r.get::<String>(0)?)?);
            let text = if open {
                let plain = self
                    .keys()
                    .open(NOTE_PURPOSE, &note_place(case, id), &r.get::<Vec<u8>>(5)?)
                    .map_err(StoreError::backend)?;
                Some(String::from_utf8(plain.to_vec()).map_err(StoreError::backend)?)
            } else {
                None
            };
            let about = match r.get::<Option<String>>(2)? {
                Some(p) => Some((PersonId(parse_id(&p)?), r.get::<Option<String>>(3)?.unwrap_or_default())),
                None => None,
            };
            Ok(CaseNote {
                id,
                kind: NoteKind::parse("kind", &r.get::<String>(1)?).map_err(StoreError::backend)?,
                about,
                confidential: r.get(4)?,
                author_name: r.get(6)?,
                at: parse_ts(&r.get::<String>(7)?)?,
                text,
            })
        })
        .collect()
    }

    pub(crate) fn list_case_notes(&self, case: CaseId) -> StoreResult<Vec<CaseNote>> {
        self.read(|tx| self.notes_in(tx, case, false, false))
    }

    pub(crate) fn open_case_notes(
        &self,
        case: CaseId,
        household_copy: bool,
        ctx: &AuditContext,
    ) -> StoreResult<Vec<CaseNote>> {
        self.write(|tx| {
            let exists: bool = tx.query_value(
                "SELECT EXISTS(SELECT 1 FROM cases WHERE id = ?1)",
                params![case.to_string()],
            )?;
            if !exists {
                return Err(StoreError::NotFound);
            }
            let notes = self.notes_in(tx, case, true, household_copy)?;
            insert_audit(
                tx,
                &ctx.event(
                    AuditAction::CaseNotesRead,
                    "case",
                    Some(case.to_string()),
                    if household_copy { "household copy" } else { "all notes" },
                ),
            )?;
            Ok(notes)
        })
    }
}

#[cfg(test)]
mod tests {
    use super::nearest_rank;

    #[test]
    fn nearest_rank_percentiles() {
        assert_eq!(nearest_rank(10, 0.5), 5);
        assert_eq!(nearest_rank(10, 0.9), 9);
        assert_eq!(nearest_rank(1, 0.9), 1);
        assert_eq!(nearest_rank(3, 0.5), 2);
    }
}
