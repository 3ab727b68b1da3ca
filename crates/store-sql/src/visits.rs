//! Family visits: visiting rooms with capacity and opening hours, bookings
//! without double booking, outcomes. A visit needs the sought person's
//! consent to be visited; the visitors' names are sealed.
//!
//! The double-booking check runs inside the write transaction, and writes
//! run one at a time (see `Backend::write`), as for interviews.

use lantern_domain::audit::AuditAction;
use lantern_domain::interview::{available, windows, Slot};
use lantern_domain::person::SiteId;
use lantern_domain::tracing::{visits_allowed, RequestId, RequestState, VisitId, VisitRoomId, VisitStatus};
use lantern_domain::{FieldError, Reason};
use lantern_store::{AuditContext, NewVisit, StoreError, StoreResult, Visit, VisitRoom};

use crate::sql::{Backend, Conn, ConnExt, Row};
use crate::tracing::{load, move_in};
use crate::util::{fmt_ts, json, parse_id, parse_ts};
use crate::{insert_audit, params, SqlStore};

/// Keyring purpose of the visitors' names.
pub(crate) const VISITORS_PURPOSE: &str = "request-visitors";

/// Where a visit's visitors are sealed (associated data).
pub(crate) fn visitors_place(id: VisitId) -> String {
    format!("visit/{id}/visitors")
}

/// Longest list of visitors a form may give (rooms hold fewer).
const MAX_VISITORS: usize = 50;

fn room_row(r: &Row) -> StoreResult<VisitRoom> {
    Ok(VisitRoom {
        id: VisitRoomId(parse_id(&r.get::<String>(0)?)?),
        site_id: SiteId(parse_id(&r.get::<String>(1)?)?),
        site: r.get(2)?,
        name: r.get(3)?,
        capacity: r.get(4)?,
        hours: windows("hours", &r.get::<String>(5)?).map_err(StoreError::backend)?,
    })
}

const ROOM_COLUMNS: &str = "v.id, v.site_id, s.name, v.name, v.capacity, v.hours";
const ROOM_FROM: &str = "visit_rooms v JOIN sites s ON s.id = v.site_id";
const VISIT_COLUMNS: &str =
    "x.id, x.request_id, x.room_id, v.name, s.name, x.starts_at, x.ends_at, x.visitors, x.status, \
     x.outcome_by, x.outcome_reason";
const VISIT_FROM: &str = "visits x JOIN visit_rooms v ON v.id = x.room_id JOIN sites s ON s.id = v.site_id";

fn load_room(tx: &dyn Conn, id: VisitRoomId) -> StoreResult<Option<VisitRoom>> {
    tx.query_opt(
        &format!("SELECT {ROOM_COLUMNS} FROM {ROOM_FROM} WHERE v.id = ?1"),
        params![id.to_string()],
    )?
    .map(|r| room_row(&r))
    .transpose()
}

impl<B: Backend> SqlStore<B> {
    fn visit_row(&self, r: &Row) -> StoreResult<Visit> {
        let id = VisitId(parse_id(&r.get::<String>(0)?)?);
        let sealed: Vec<u8> = r.get(7)?;
        let plain = self
            .keys()
            .open(VISITORS_PURPOSE, &visitors_place(id), &sealed)
            .map_err(StoreError::backend)?;
        Ok(Visit {
            id,
            request: RequestId(parse_id(&r.get::<String>(1)?)?),
            room: VisitRoomId(parse_id(&r.get::<String>(2)?)?),
            room_name: r.get(3)?,
            site: r.get(4)?,
            slot: Slot {
                start: parse_ts(&r.get::<String>(5)?)?,
                end: parse_ts(&r.get::<String>(6)?)?,
            },
            visitors: serde_json::from_slice(&plain).map_err(json)?,
            status: VisitStatus::parse("status", &r.get::<String>(8)?).map_err(StoreError::backend)?,
            outcome_by: r.get(9)?,
            outcome_reason: r.get(10)?,
        })
    }

    fn load_visit(&self, tx: &dyn Conn, id: VisitId) -> StoreResult<Option<Visit>> {
        tx.query_opt(
            &format!("SELECT {VISIT_COLUMNS} FROM {VISIT_FROM} WHERE x.id = ?1"),
            params![id.to_string()],
        )?
        .map(|r| self.visit_row(&r))
        .transpose()
    }

    /// The log entry and audit event of a booking or an outcome.
    fn log_visit(&self, tx: &dyn Conn, v: &Visit, version: i64, ctx: &AuditContext) -> StoreResult<()> {
        crate::ledger::append_record(
            tx,
            crate::ledger::EntryHead {
                kind: if version == 1 {
                    "record.created"
                } else {
                    "record.updated"
                },
                record_kind: "visit",
                record_id: &v.id.to_string(),
                version: Some(version),
                at: ctx.at,
            },
            &[
                ("request_id", Some(v.request.to_string())),
                ("room_id", Some(v.room.to_string())),
                ("starts_at", Some(fmt_ts(v.slot.start))),
                ("ends_at", Some(fmt_ts(v.slot.end))),
                ("visitors", Some(serde_json::to_string(&v.visitors).map_err(json)?)),
                ("status", Some(v.status.code().to_string())),
                ("outcome_by", v.outcome_by.clone()),
                ("outcome_reason", v.outcome_reason.clone()),
            ],
        )?;
        let action = if version == 1 {
            AuditAction::VisitBook
        } else {
            AuditAction::VisitClose
        };
        insert_audit(tx, &ctx.event(action, "visit", Some(v.id.to_string()), v.status.code()))
    }

    pub(crate) fn add_visit_room(
        &self,
        site: SiteId,
        name: &str,
        capacity: u32,
        hours: &[lantern_domain::interview::Window],
        ctx: &AuditContext,
    ) -> StoreResult<VisitRoom> {
        let name = lantern_domain::interview::name("name", name)?;
        if capacity == 0 {
            return Err(FieldError::new("capacity", Reason::InvalidNumber).into());
        }
        let hours_text = lantern_domain::interview::windows_text(hours);
        self.write(|tx| {
            let site_known: bool = tx.query_value(
                "SELECT EXISTS(SELECT 1 FROM sites WHERE id = ?1)",
                params![site.to_string()],
            )?;
            if !site_known {
                return Err(FieldError::new("site_id", Reason::NotFound).into());
            }
            let taken: bool = tx.query_value(
                "SELECT EXISTS(SELECT 1 FROM visit_rooms WHERE site_id = ?1 AND name = ?2)",
                params![site.to_string(), name.as_str()],
            )?;
            if taken {
                return Err(FieldError::new("name", Reason::Duplicate).into());
            }
            let id = VisitRoomId::new();
            tx.execute(
                "INSERT INTO visit_rooms (id, site_id, name, capacity, hours, created_at)
                 VALUES (?1, ?2, ?3, ?4, ?5, ?6)",
                params![
                    id.to_string(),
                    site.to_string(),
                    name.as_str(),
                    i64::from(capacity),
                    hours_text.as_str(),
                    fmt_ts(ctx.at)
                ],
            )?;
            insert_audit(
                tx,
                &ctx.event(AuditAction::VisitRoomCreate, "visit_room", Some(id.to_string()), &name),
            )?;
            load_room(tx, id)?.ok_or(StoreError::NotFound)
        })
    }

    pub(crate) fn all_visit_rooms(&self) -> StoreResult<Vec<VisitRoom>> {
        self.read(|tx| {
            tx.query(
                &format!("SELECT {ROOM_COLUMNS} FROM {ROOM_FROM} ORDER BY s.name, v.name"),
                &[],
            )?
            .iter()
            .map(room_row)
            .collect()
        })
    }

    pub(crate) fn book_visit_in(&self, b: &NewVisit, ctx: &AuditContext) -> StoreResult<Visit> {
        if b.slot.end <= b.slot.start {
            return Err(FieldError::new("ends_at", Reason::InvalidRange).into());
        }
        if b.visitors.is_empty() {
            return Err(FieldError::new("visitors", Reason::Required).into());
        }
        if b.visitors.len() > MAX_VISITORS {
            return Err(FieldError::new("visitors", Reason::TooLong { max: MAX_VISITORS }).into());
        }
        let id = VisitId::new();
        let sealed = self
            .keys()
            .seal(
                VISITORS_PURPOSE,
                &visitors_place(id),
                &serde_json::to_vec(&b.visitors).map_err(json)?,
            )
            .map_err(StoreError::backend)?;
        self.write(|tx| {
            let r = load(tx, b.request)?.ok_or(StoreError::NotFound)?;
            if !visits_allowed(r.consent.as_ref().map(|c| &c.consent)) {
                return Err(FieldError::new("request_id", Reason::NotConsented).into());
            }
            let Some((person, _)) = r.matched else {
                return Err(FieldError::new("request_id", Reason::StepNotAllowed).into());
            };
            let room =
                load_room(tx, b.room)?.ok_or_else(|| StoreError::from(FieldError::new("room_id", Reason::NotFound)))?;
            if b.visitors.len() > room.capacity as usize {
                return Err(FieldError::new(
                    "visitors",
                    Reason::TooLong {
                        max: room.capacity as usize,
                    },
                )
                .into());
            }
            if !available(&room.hours, &b.slot) {
                return Err(FieldError::new("starts_at", Reason::Unavailable).into());
            }
            let (start, end) = (fmt_ts(b.slot.start), fmt_ts(b.slot.end));
            // The room, and the person (through any of their requests).
            let clash: bool = tx.query_value(
                "SELECT EXISTS(SELECT 1 FROM visits x JOIN tracing_requests t ON t.id = x.request_id
                 WHERE x.status = 'scheduled' AND x.starts_at < ?3 AND x.ends_at > ?2
                   AND (x.room_id = ?1 OR t.matched_id = ?4))",
                params![b.room.to_string(), start.as_str(), end.as_str(), person.to_string()],
            )?;
            if clash {
                return Err(FieldError::new("starts_at", Reason::DoubleBooked).into());
            }
            // One visit at a time per request (checked after the clash,
            // which says more).
            r.state.check_next(RequestState::VisitScheduled)?;
            tx.execute(
                "INSERT INTO visits (id, request_id, room_id, starts_at, ends_at, visitors, visitor_count, status,
                                     booked_by, booked_at)
                 VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10)",
                params![
                    id.to_string(),
                    b.request.to_string(),
                    b.room.to_string(),
                    start.as_str(),
                    end.as_str(),
                    sealed.clone(),
                    b.visitors.len() as i64,
                    VisitStatus::Scheduled.code(),
                    ctx.actor_name.as_str(),
                    fmt_ts(ctx.at)
                ],
            )?;
            let v = self.load_visit(tx, id)?.ok_or(StoreError::NotFound)?;
            self.log_visit(tx, &v, 1, ctx)?;
            if r.state != RequestState::VisitScheduled {
                move_in(tx, b.request, r.state, RequestState::VisitScheduled, None, ctx)?;
            }
            Ok(v)
        })
    }

    pub(crate) fn close_visit_in(
        &self,
        id: VisitId,
        status: VisitStatus,
        outcome_by: Option<String>,
        reason: Option<String>,
        ctx: &AuditContext,
    ) -> StoreResult<Visit> {
        if status == VisitStatus::Scheduled {
            return Err(FieldError::new("status", Reason::UnknownChoice).into());
        }
        let outcome_by = match outcome_by {
            Some(t) => lantern_domain::text::optional_text("outcome_by", &t, 200, false)?,
            None => None,
        };
        let reason = match reason {
            Some(t) => lantern_domain::text::optional_text("reason", &t, 1000, true)?,
            None => None,
        };
        if status.needs_reason() {
            if outcome_by.is_none() {
                return Err(FieldError::new("outcome_by", Reason::Required).into());
            }
            if reason.is_none() {
                return Err(FieldError::new("reason", Reason::Required).into());
            }
        }
        self.write(|tx| {
            let v = self
                .load_visit(tx, id)?
                .ok_or_else(|| StoreError::from(FieldError::new("visit_id", Reason::NotFound)))?;
            if v.status != VisitStatus::Scheduled {
                return Err(FieldError::new("status", Reason::StepNotAllowed).into());
            }
            tx.execute(
                "UPDATE visits SET status = ?2, outcome_by = ?3, outcome_reason = ?4, closed_at = ?5 WHERE id = ?1",
                params![
                    id.to_string(),
                    status.code(),
                    outcome_by.clone(),
                    reason.clone(),
                    fmt_ts(ctx.at)
                ],
            )?;
            let v = self.load_visit(tx, id)?.ok_or(StoreError::NotFound)?;
            self.log_visit(tx, &v, 2, ctx)?;
            let r = load(tx, v.request)?.ok_or(StoreError::NotFound)?;
            let to = if status == VisitStatus::Held {
                RequestState::VisitHeld
            } else {
                RequestState::ConsentGiven
            };
            // Consent may have been withdrawn since the booking: the request
            // then stays where the withdrawal put it.
            if r.state == RequestState::VisitScheduled {
                move_in(tx, v.request, r.state, to, None, ctx)?;
            }
            Ok(v)
        })
    }

    pub(crate) fn visits_of(&self, request: RequestId, ctx: &AuditContext) -> StoreResult<Vec<Visit>> {
        self.write(|tx| {
            let out = tx
                .query(
                    &format!(
                        "SELECT {VISIT_COLUMNS} FROM {VISIT_FROM} WHERE x.request_id = ?1 ORDER BY x.starts_at, x.id"
                    ),
                    params![request.to_string()],
                )?
                .iter()
                .map(|r| self.visit_row(r))
                .collect::<StoreResult<Vec<_>>>()?;
            insert_audit(
                tx,
                &ctx.event(
                    AuditAction::RequestReadVisits,
                    "tracing_request",
                    Some(request.to_string()),
                    "",
                ),
            )?;
            Ok(out)
        })
    }
}
