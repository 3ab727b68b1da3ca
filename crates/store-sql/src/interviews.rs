//! Interview scheduling: rooms, interpreters, bookings without double
//! booking, outcomes that move the case on.
//!
//! The no-double-booking rule is checked inside the write transaction, and
//! writes run one at a time (see `Backend::write`), so a check and the
//! booking it allows cannot be interleaved with another booking.

use lantern_domain::audit::AuditAction;
use lantern_domain::case::{CaseId, CaseStep, ObstacleKind};
use lantern_domain::interview::{
    available, InterpreterId, InterviewId, InterviewStatus, ResourceKind, RoomId, Slot, Window,
};
use lantern_domain::person::SiteId;
use lantern_domain::policy::Role;
use lantern_domain::user::UserId;
use lantern_domain::{FieldError, Reason};
use lantern_store::{
    AuditContext, BulkResult, BulkSchedule, Interpreter, Interview, InterviewOutcome, InterviewQuery, NewInterview,
    NewObstacle, Room, StoreError, StoreResult,
};

use crate::cases::{insert_obstacle, move_in};
use crate::sql::{Backend, Conn, ConnExt, Row};
use crate::util::{fmt_ts, parse_id, parse_ts};
use crate::{insert_audit, params, SqlStore};

const INTERVIEW_COLUMNS: &str = "i.id, i.case_id, p.display_name, i.starts_at, i.ends_at, i.room_id, r.name, s.name, \
     i.interviewer_id, u.display_name, i.interpreter_id, t.name, i.language, i.status, i.others_present";
const INTERVIEW_FROM: &str = "interviews i JOIN people p ON p.id = i.person_id JOIN rooms r ON r.id = i.room_id \
     JOIN sites s ON s.id = r.site_id JOIN users u ON u.id = i.interviewer_id \
     LEFT JOIN interpreters t ON t.id = i.interpreter_id";

fn interview_row(r: &Row) -> StoreResult<Interview> {
    Ok(Interview {
        id: InterviewId(parse_id(&r.get::<String>(0)?)?),
        case: CaseId(parse_id(&r.get::<String>(1)?)?),
        person_name: r.get(2)?,
        slot: Slot {
            start: parse_ts(&r.get::<String>(3)?)?,
            end: parse_ts(&r.get::<String>(4)?)?,
        },
        room: RoomId(parse_id(&r.get::<String>(5)?)?),
        room_name: r.get(6)?,
        site: r.get(7)?,
        interviewer: UserId(parse_id(&r.get::<String>(8)?)?),
        interviewer_name: r.get(9)?,
        interpreter: r
            .get::<Option<String>>(10)?
            .map(|i| parse_id(&i).map(InterpreterId))
            .transpose()?,
        interpreter_name: r.get(11)?,
        language: r.get(12)?,
        status: InterviewStatus::parse("status", &r.get::<String>(13)?).map_err(StoreError::backend)?,
        others_present: r.get(14)?,
    })
}

fn load_interview(tx: &dyn Conn, id: InterviewId) -> StoreResult<Option<Interview>> {
    tx.query_opt(
        &format!("SELECT {INTERVIEW_COLUMNS} FROM {INTERVIEW_FROM} WHERE i.id = ?1"),
        params![id.to_string()],
    )?
    .map(|r| interview_row(&r))
    .transpose()
}

/// The first resource of the booking already taken during its slot, as the
/// field to report.
fn first_conflict(tx: &dyn Conn, b: &NewInterview, person: &str) -> StoreResult<Option<&'static str>> {
    let (start, end) = (fmt_ts(b.slot.start), fmt_ts(b.slot.end));
    let mut checks = vec![
        ("room_id", "room_id", b.room.to_string()),
        ("interviewer_id", "interviewer_id", b.interviewer.to_string()),
        ("case_id", "person_id", person.to_string()),
    ];
    if let Some(i) = b.interpreter {
        checks.push(("interpreter_id", "interpreter_id", i.to_string()));
    }
    for (field, column, value) in checks {
        let taken: bool = tx.query_value(
            &format!(
                "SELECT EXISTS(SELECT 1 FROM interviews WHERE {column} = ?1 AND status IN ('scheduled', 'held')
                 AND starts_at < ?3 AND ends_at > ?2)"
            ),
            params![value, start.as_str(), end.as_str()],
        )?;
        if taken {
            return Ok(Some(field));
        }
    }
    Ok(None)
}

/// The weekly windows of an interviewer or interpreter.
fn windows_of(tx: &dyn Conn, kind: ResourceKind, id: &str) -> StoreResult<Vec<Window>> {
    let hm = |t: String| {
        time::Time::parse(&t, time::macros::format_description!("[hour]:[minute]")).map_err(StoreError::backend)
    };
    tx.query(
        "SELECT weekday, starts, ends FROM availability WHERE resource_kind = ?1 AND resource_id = ?2
         ORDER BY weekday, starts",
        params![kind.code(), id],
    )?
    .into_iter()
    .map(|r| {
        Ok(Window {
            weekday: time::Weekday::Monday.nth_next(r.get::<u32>(0)? as u8),
            starts: hm(r.get(1)?)?,
            ends: hm(r.get(2)?)?,
        })
    })
    .collect()
}

/// Books inside the caller's transaction; see [`lantern_store::Store::book_interview`].
fn book_in(tx: &dyn Conn, b: &NewInterview, ctx: &AuditContext) -> StoreResult<Interview> {
    let case = tx
        .query_opt(
            "SELECT c.step, c.person_id FROM cases c WHERE c.id = ?1",
            params![b.case.to_string()],
        )?
        .ok_or_else(|| StoreError::from(FieldError::new("case_id", Reason::NotFound)))?;
    let (step, person): (String, String) = (case.get(0)?, case.get(1)?);
    if step != CaseStep::InterviewRequested.code() {
        return Err(FieldError::new("case_id", Reason::StepNotAllowed).into());
    }
    let room: bool = tx.query_value(
        "SELECT EXISTS(SELECT 1 FROM rooms WHERE id = ?1)",
        params![b.room.to_string()],
    )?;
    if !room {
        return Err(FieldError::new("room_id", Reason::NotFound).into());
    }
    let interviewer: bool = tx.query_value(
        "SELECT EXISTS(SELECT 1 FROM users WHERE id = ?1 AND role = ?2 AND disabled = 0)",
        params![b.interviewer.to_string(), Role::Interviewer.code()],
    )?;
    if !interviewer {
        return Err(FieldError::new("interviewer_id", Reason::NotFound).into());
    }
    if let Some(i) = b.interpreter {
        let known: bool = tx.query_value(
            "SELECT EXISTS(SELECT 1 FROM interpreters WHERE id = ?1)",
            params![i.to_string()],
        )?;
        if !known {
            return Err(FieldError::new("interpreter_id", Reason::NotFound).into());
        }
    }
    if !available(
        &windows_of(tx, ResourceKind::Interviewer, &b.interviewer.to_string())?,
        &b.slot,
    ) {
        return Err(FieldError::new("interviewer_id", Reason::Unavailable).into());
    }
    if let Some(i) = b.interpreter {
        if !available(&windows_of(tx, ResourceKind::Interpreter, &i.to_string())?, &b.slot) {
            return Err(FieldError::new("interpreter_id", Reason::Unavailable).into());
        }
    }
    if let Some(field) = first_conflict(tx, b, &person)? {
        return Err(FieldError::new(field, Reason::DoubleBooked).into());
    }
    let id = InterviewId::new();
    let now = fmt_ts(ctx.at);
    tx.execute(
        "INSERT INTO interviews (id, version, case_id, person_id, starts_at, ends_at, room_id, interviewer_id,
                                 interpreter_id, language, status, others_present, created_at, updated_at)
         VALUES (?1, 1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, NULL, ?11, ?11)",
        params![
            id.to_string(),
            b.case.to_string(),
            person.as_str(),
            fmt_ts(b.slot.start),
            fmt_ts(b.slot.end),
            b.room.to_string(),
            b.interviewer.to_string(),
            b.interpreter.map(|i| i.to_string()),
            b.language.as_deref(),
            InterviewStatus::Scheduled.code(),
            now.as_str()
        ],
    )?;
    log_interview(tx, id, 1, InterviewStatus::Scheduled, b, ctx)?;
    move_in(
        tx,
        b.case,
        CaseStep::InterviewRequested,
        CaseStep::InterviewScheduled,
        None,
        ctx,
    )?;
    load_interview(tx, id)?.ok_or(StoreError::NotFound)
}

/// The log entry and audit event of an interview's booking or outcome.
fn log_interview(
    tx: &dyn Conn,
    id: InterviewId,
    version: i64,
    status: InterviewStatus,
    b: &NewInterview,
    ctx: &AuditContext,
) -> StoreResult<()> {
    crate::ledger::append_record(
        tx,
        crate::ledger::EntryHead {
            kind: if version == 1 {
                "record.created"
            } else {
                "record.updated"
            },
            record_kind: "interview",
            record_id: &id.to_string(),
            version: Some(version),
            at: ctx.at,
        },
        &[
            ("case_id", Some(b.case.to_string())),
            ("starts_at", Some(fmt_ts(b.slot.start))),
            ("ends_at", Some(fmt_ts(b.slot.end))),
            ("room_id", Some(b.room.to_string())),
            ("interviewer_id", Some(b.interviewer.to_string())),
            ("interpreter_id", b.interpreter.map(|i| i.to_string())),
            ("language", b.language.clone()),
            ("status", Some(status.code().to_string())),
        ],
    )?;
    let action = if version == 1 {
        AuditAction::InterviewBook
    } else {
        AuditAction::InterviewClose
    };
    insert_audit(tx, &ctx.event(action, "interview", Some(id.to_string()), status.code()))
}

/// An interview that occupies its room and people, as bulk scheduling
/// keeps them in memory (ids as stored).
struct Taken {
    slot: Slot,
    room: String,
    interviewer: String,
    interpreter: Option<String>,
    person: String,
}

/// Cancels a case's scheduled interviews inside the caller's transaction
/// (the case was moved by hand away from `interview_scheduled`).
pub(crate) fn cancel_scheduled(tx: &dyn Conn, case: CaseId, ctx: &AuditContext) -> StoreResult<()> {
    let ids: Vec<String> = tx
        .query(
            "SELECT id FROM interviews WHERE case_id = ?1 AND status = 'scheduled'",
            params![case.to_string()],
        )?
        .into_iter()
        .map(|r| r.get(0))
        .collect::<StoreResult<_>>()?;
    for id in ids {
        let id = InterviewId(parse_id(&id)?);
        let i = load_interview(tx, id)?.ok_or(StoreError::NotFound)?;
        let version: i64 = tx.query_value("SELECT version FROM interviews WHERE id = ?1", params![id.to_string()])?;
        tx.execute(
            "UPDATE interviews SET version = ?2, status = ?3, updated_at = ?4 WHERE id = ?1",
            params![
                id.to_string(),
                version + 1,
                InterviewStatus::Cancelled.code(),
                fmt_ts(ctx.at)
            ],
        )?;
        let booking = NewInterview {
            case: i.case,
            slot: i.slot,
            room: i.room,
            interviewer: i.interviewer,
            interpreter: i.interpreter,
            language: i.language,
        };
        log_interview(tx, id, version + 1, InterviewStatus::Cancelled, &booking, ctx)?;
    }
    Ok(())
}

impl<B: Backend> SqlStore<B> {
    pub(crate) fn put_availability(
        &self,
        kind: ResourceKind,
        id: uuid::Uuid,
        windows: &[Window],
        ctx: &AuditContext,
    ) -> StoreResult<()> {
        self.write(|tx| {
            let exists: bool = match kind {
                ResourceKind::Interviewer => tx.query_value(
                    "SELECT EXISTS(SELECT 1 FROM users WHERE id = ?1 AND role = ?2)",
                    params![id.to_string(), Role::Interviewer.code()],
                )?,
                ResourceKind::Interpreter => tx.query_value(
                    "SELECT EXISTS(SELECT 1 FROM interpreters WHERE id = ?1)",
                    params![id.to_string()],
                )?,
            };
            if !exists {
                return Err(FieldError::new("id", Reason::NotFound).into());
            }
            tx.execute(
                "DELETE FROM availability WHERE resource_kind = ?1 AND resource_id = ?2",
                params![kind.code(), id.to_string()],
            )?;
            let mut seen = std::collections::HashSet::new();
            for w in windows {
                let day = w.weekday.number_days_from_monday();
                let starts = format!("{:02}:{:02}", w.starts.hour(), w.starts.minute());
                if !seen.insert((day, starts.clone())) {
                    return Err(FieldError::new("windows", Reason::Duplicate).into());
                }
                tx.execute(
                    "INSERT INTO availability (resource_kind, resource_id, weekday, starts, ends) VALUES (?1, ?2, ?3, ?4, ?5)",
                    params![
                        kind.code(),
                        id.to_string(),
                        i64::from(day),
                        starts,
                        format!("{:02}:{:02}", w.ends.hour(), w.ends.minute())
                    ],
                )?;
            }
            insert_audit(
                tx,
                &ctx.event(
                    AuditAction::AvailabilitySet,
                    kind.code(),
                    Some(id.to_string()),
                    &lantern_domain::interview::windows_text(windows),
                ),
            )
        })
    }

    pub(crate) fn put_interviewer_languages(
        &self,
        user: UserId,
        languages: &[String],
        ctx: &AuditContext,
    ) -> StoreResult<()> {
        let codes: Vec<String> = if languages.iter().all(|l| l.trim().is_empty()) {
            Vec::new()
        } else {
            lantern_domain::interview::languages("languages", &languages.join(","))?
                .iter()
                .map(|l| l.as_str().to_string())
                .collect()
        };
        self.write(|tx| {
            let interviewer: bool = tx.query_value(
                "SELECT EXISTS(SELECT 1 FROM users WHERE id = ?1 AND role = ?2)",
                params![user.to_string(), Role::Interviewer.code()],
            )?;
            if !interviewer {
                return Err(FieldError::new("id", Reason::NotFound).into());
            }
            tx.execute(
                "DELETE FROM interviewer_languages WHERE user_id = ?1",
                params![user.to_string()],
            )?;
            if !codes.is_empty() {
                tx.execute(
                    "INSERT INTO interviewer_languages (user_id, languages) VALUES (?1, ?2)",
                    params![user.to_string(), codes.join(",")],
                )?;
            }
            insert_audit(
                tx,
                &ctx.event(
                    AuditAction::UserUpdate,
                    "user",
                    Some(user.to_string()),
                    &format!("languages={}", codes.join(",")),
                ),
            )
        })
    }

    pub(crate) fn all_interviewer_languages(&self) -> StoreResult<Vec<(UserId, Vec<String>)>> {
        self.read(|tx| {
            tx.query(
                "SELECT user_id, languages FROM interviewer_languages ORDER BY user_id",
                &[],
            )?
            .into_iter()
            .map(|r| {
                Ok((
                    UserId(parse_id(&r.get::<String>(0)?)?),
                    r.get::<String>(1)?.split(',').map(str::to_string).collect(),
                ))
            })
            .collect()
        })
    }

    pub(crate) fn get_availability(&self, kind: ResourceKind, id: uuid::Uuid) -> StoreResult<Vec<Window>> {
        self.read(|tx| windows_of(tx, kind, &id.to_string()))
    }

    pub(crate) fn add_room(&self, site: SiteId, name: &str, ctx: &AuditContext) -> StoreResult<Room> {
        let name = lantern_domain::interview::name("name", name)?;
        self.write(|tx| {
            let site_name: String = tx
                .query_opt("SELECT name FROM sites WHERE id = ?1", params![site.to_string()])?
                .ok_or_else(|| StoreError::from(FieldError::new("site_id", Reason::NotFound)))?
                .get(0)?;
            let taken: bool = tx.query_value(
                "SELECT EXISTS(SELECT 1 FROM rooms WHERE site_id = ?1 AND name = ?2)",
                params![site.to_string(), name.as_str()],
            )?;
            if taken {
                return Err(FieldError::new("name", Reason::Duplicate).into());
            }
            let id = RoomId::new();
            tx.execute(
                "INSERT INTO rooms (id, site_id, name, created_at) VALUES (?1, ?2, ?3, ?4)",
                params![id.to_string(), site.to_string(), name.as_str(), fmt_ts(ctx.at)],
            )?;
            insert_audit(
                tx,
                &ctx.event(AuditAction::RoomCreate, "room", Some(id.to_string()), &name),
            )?;
            Ok(Room {
                id,
                site_id: site,
                site: site_name,
                name,
            })
        })
    }

    pub(crate) fn all_rooms(&self) -> StoreResult<Vec<Room>> {
        self.read(|tx| {
            tx.query(
                "SELECT r.id, r.site_id, s.name, r.name FROM rooms r JOIN sites s ON s.id = r.site_id
                 ORDER BY s.name, r.name",
                &[],
            )?
            .into_iter()
            .map(|r| {
                Ok(Room {
                    id: RoomId(parse_id(&r.get::<String>(0)?)?),
                    site_id: SiteId(parse_id(&r.get::<String>(1)?)?),
                    site: r.get(2)?,
                    name: r.get(3)?,
                })
            })
            .collect()
        })
    }

    pub(crate) fn add_interpreter(
        &self,
        name: &str,
        languages: &[String],
        ctx: &AuditContext,
    ) -> StoreResult<Interpreter> {
        let name = lantern_domain::interview::name("name", name)?;
        let languages = lantern_domain::interview::languages("languages", &languages.join(","))?;
        let codes: Vec<String> = languages.iter().map(|l| l.as_str().to_string()).collect();
        self.write(|tx| {
            let id = InterpreterId::new();
            tx.execute(
                "INSERT INTO interpreters (id, name, languages, created_at) VALUES (?1, ?2, ?3, ?4)",
                params![id.to_string(), name.as_str(), codes.join(","), fmt_ts(ctx.at)],
            )?;
            insert_audit(
                tx,
                &ctx.event(
                    AuditAction::InterpreterCreate,
                    "interpreter",
                    Some(id.to_string()),
                    &codes.join(","),
                ),
            )?;
            Ok(Interpreter {
                id,
                name,
                languages: codes,
            })
        })
    }

    pub(crate) fn all_interpreters(&self) -> StoreResult<Vec<Interpreter>> {
        self.read(|tx| {
            tx.query("SELECT id, name, languages FROM interpreters ORDER BY name, id", &[])?
                .into_iter()
                .map(|r| {
                    Ok(Interpreter {
                        id: InterpreterId(parse_id(&r.get::<String>(0)?)?),
                        name: r.get(1)?,
                        languages: r.get::<String>(2)?.split(',').map(str::to_string).collect(),
                    })
                })
                .collect()
        })
    }

    pub(crate) fn book(&self, b: &NewInterview, ctx: &AuditContext) -> StoreResult<Interview> {
        self.write(|tx| book_in(tx, b, ctx))
    }

    pub(crate) fn bulk(&self, plan: &BulkSchedule, ctx: &AuditContext) -> StoreResult<BulkResult> {
        if plan.length <= time::Duration::ZERO || plan.first + plan.length > plan.last_end {
            return Err(FieldError::new("last_end", Reason::InvalidRange).into());
        }
        self.write(|tx| {
            let rooms: Vec<RoomId> = tx
                .query(
                    "SELECT id FROM rooms WHERE site_id = ?1 ORDER BY name, id",
                    params![plan.site.to_string()],
                )?
                .into_iter()
                .map(|r| Ok(RoomId(parse_id(&r.get::<String>(0)?)?)))
                .collect::<StoreResult<_>>()?;
            if rooms.is_empty() {
                return Err(FieldError::new("site_id", Reason::NotFound).into());
            }
            let mut slots = Vec::new();
            let mut start = plan.first;
            while start + plan.length <= plan.last_end {
                slots.push(Slot::new(start, plan.length));
                start += plan.length;
            }
            // What is already taken that day, held in memory so each case
            // tries the slots without a query per slot and room; the
            // booking itself still checks in SQL.
            let (day_start, day_end) = (fmt_ts(plan.first), fmt_ts(plan.last_end));
            let mut taken: Vec<Taken> = tx
                .query(
                    "SELECT starts_at, ends_at, room_id, interviewer_id, interpreter_id, person_id FROM interviews
                     WHERE status IN ('scheduled', 'held') AND starts_at < ?2 AND ends_at > ?1",
                    params![day_start.as_str(), day_end.as_str()],
                )?
                .into_iter()
                .map(|r| {
                    Ok(Taken {
                        slot: Slot {
                            start: parse_ts(&r.get::<String>(0)?)?,
                            end: parse_ts(&r.get::<String>(1)?)?,
                        },
                        room: r.get(2)?,
                        interviewer: r.get(3)?,
                        interpreter: r.get(4)?,
                        person: r.get(5)?,
                    })
                })
                .collect::<StoreResult<_>>()?;
            let interviewer = plan.interviewer.to_string();
            let interpreter = plan.interpreter.map(|i| i.to_string());
            let interviewer_windows = windows_of(tx, ResourceKind::Interviewer, &interviewer)?;
            let interpreter_windows = match &interpreter {
                Some(i) => windows_of(tx, ResourceKind::Interpreter, i)?,
                None => Vec::new(),
            };
            let mut result = BulkResult {
                booked: Vec::new(),
                left_out: Vec::new(),
            };
            'cases: for case in &plan.cases {
                let Some(row) = tx.query_opt(
                    "SELECT step, person_id FROM cases WHERE id = ?1",
                    params![case.to_string()],
                )?
                else {
                    result.left_out.push((*case, Reason::NotFound.code()));
                    continue;
                };
                let (step, person): (String, String) = (row.get(0)?, row.get(1)?);
                if step != CaseStep::InterviewRequested.code() {
                    result.left_out.push((*case, Reason::StepNotAllowed.code()));
                    continue;
                }
                for slot in &slots {
                    if !available(&interviewer_windows, slot) || !available(&interpreter_windows, slot) {
                        continue;
                    }
                    let busy = |pred: &dyn Fn(&Taken) -> bool| taken.iter().any(|t| t.slot.overlaps(slot) && pred(t));
                    if busy(&|t| {
                        t.interviewer == interviewer
                            || t.person == person
                            || (interpreter.is_some() && t.interpreter == interpreter)
                    }) {
                        continue;
                    }
                    let Some(room) = rooms.iter().find(|r| !busy(&|t| t.room == r.to_string())) else {
                        continue;
                    };
                    let booking = NewInterview {
                        case: *case,
                        slot: *slot,
                        room: *room,
                        interviewer: plan.interviewer,
                        interpreter: plan.interpreter,
                        language: plan.language.clone(),
                    };
                    match book_in(tx, &booking, ctx) {
                        Ok(i) => {
                            taken.push(Taken {
                                slot: *slot,
                                room: room.to_string(),
                                interviewer: interviewer.clone(),
                                interpreter: interpreter.clone(),
                                person,
                            });
                            result.booked.push(i);
                            continue 'cases;
                        }
                        // The SQL check is the authority; the memory only saves queries.
                        Err(StoreError::Invalid(e))
                            if matches!(e.reason, Reason::DoubleBooked | Reason::Unavailable) =>
                        {
                            continue
                        }
                        Err(e) => return Err(e),
                    }
                }
                result.left_out.push((*case, Reason::DoubleBooked.code()));
            }
            Ok(result)
        })
    }

    pub(crate) fn close(
        &self,
        id: InterviewId,
        outcome: &InterviewOutcome,
        ctx: &AuditContext,
    ) -> StoreResult<Interview> {
        self.write(|tx| {
            let i = load_interview(tx, id)?.ok_or(StoreError::NotFound)?;
            let version: i64 =
                tx.query_value("SELECT version FROM interviews WHERE id = ?1", params![id.to_string()])?;
            if i.status != InterviewStatus::Scheduled {
                return Err(StoreError::Conflict { current: version });
            }
            let (status, others, next) = match outcome {
                InterviewOutcome::Held { others_present } => {
                    (InterviewStatus::Held, others_present.clone(), CaseStep::Interviewed)
                }
                InterviewOutcome::NoShow => (InterviewStatus::NoShow, None, CaseStep::InterviewRequested),
                InterviewOutcome::Cancelled => (InterviewStatus::Cancelled, None, CaseStep::InterviewRequested),
            };
            tx.execute(
                "UPDATE interviews SET version = ?2, status = ?3, others_present = ?4, updated_at = ?5 WHERE id = ?1",
                params![
                    id.to_string(),
                    version + 1,
                    status.code(),
                    others.as_deref(),
                    fmt_ts(ctx.at)
                ],
            )?;
            let booking = NewInterview {
                case: i.case,
                slot: i.slot,
                room: i.room,
                interviewer: i.interviewer,
                interpreter: i.interpreter,
                language: i.language.clone(),
            };
            log_interview(tx, id, version + 1, status, &booking, ctx)?;
            // The interview is private: anyone else present is an obstacle,
            // and so is a resident who did not come.
            let obstacle = match (status, &others) {
                (InterviewStatus::Held, Some(who)) => Some((ObstacleKind::OtherPersonPresent, Some(who.clone()))),
                (InterviewStatus::NoShow, _) => Some((ObstacleKind::DidNotAttend, None)),
                _ => None,
            };
            if let Some((kind, by_whom)) = obstacle {
                insert_obstacle(
                    tx,
                    i.case,
                    &NewObstacle {
                        kind,
                        occurred_on: i.slot.start.date(),
                        by_whom,
                        detail: None,
                    },
                    ctx,
                )?;
            }
            // The case moves on only if it still waits for this interview
            // (it may have been closed meanwhile).
            let step: String = tx.query_value("SELECT step FROM cases WHERE id = ?1", params![i.case.to_string()])?;
            if step == CaseStep::InterviewScheduled.code() {
                move_in(tx, i.case, CaseStep::InterviewScheduled, next, None, ctx)?;
            }
            load_interview(tx, id)?.ok_or(StoreError::NotFound)
        })
    }

    pub(crate) fn interview_list(&self, q: &InterviewQuery) -> StoreResult<Vec<Interview>> {
        let (site_clause, mut args) = match q.site {
            Some(s) => ("AND r.site_id = ?3", vec![s.to_string().into()]),
            None => ("", Vec::new()),
        };
        args.insert(0, fmt_ts(q.until).into());
        args.insert(0, fmt_ts(q.from).into());
        self.read(|tx| {
            tx.query(
                &format!(
                    "SELECT {INTERVIEW_COLUMNS} FROM {INTERVIEW_FROM}
                     WHERE i.starts_at >= ?1 AND i.starts_at < ?2 {site_clause} ORDER BY i.starts_at, r.name, i.id"
                ),
                &args,
            )?
            .iter()
            .map(interview_row)
            .collect()
        })
    }

    pub(crate) fn interviews_of_case(&self, case: CaseId) -> StoreResult<Vec<Interview>> {
        self.read(|tx| {
            tx.query(
                &format!(
                    "SELECT {INTERVIEW_COLUMNS} FROM {INTERVIEW_FROM} WHERE i.case_id = ?1 ORDER BY i.starts_at, i.id"
                ),
                params![case.to_string()],
            )?
            .iter()
            .map(interview_row)
            .collect()
        })
    }
}
