//! The audit trail: filtered view and CSV export (auditors).

use askama::Template;
use axum::extract::{Query, State};
use axum::http::header;
use axum::response::{IntoResponse, Response};
use lantern_domain::audit::AuditAction;
use lantern_domain::FieldErrors;
use lantern_store::{AuditEvent, AuditFilter, Page as ResultPage, PageRequest};
use serde::Deserialize;
use time::{OffsetDateTime, Time};

use crate::authz::{need, Authz};
use crate::error::AppError;
use crate::view::{render, Page};
use crate::AppState;

#[derive(Debug, Clone, Default, Deserialize)]
pub(crate) struct AuditQuery {
    #[serde(default)]
    actor: String,
    #[serde(default)]
    action: String,
    #[serde(default)]
    record: String,
    #[serde(default)]
    from: String,
    #[serde(default)]
    until: String,
    #[serde(default)]
    page: Option<u32>,
}

fn day(field: &str, raw: &str) -> Result<Option<OffsetDateTime>, lantern_domain::FieldError> {
    if raw.trim().is_empty() {
        return Ok(None);
    }
    lantern_domain::date::day(field, raw).map(|d| Some(d.with_time(Time::MIDNIGHT).assume_utc()))
}

impl AuditQuery {
    /// The store filter; `until` is inclusive of the whole day.
    fn filter(&self, size: u32) -> Result<AuditFilter, FieldErrors> {
        let mut errors = FieldErrors::new();
        let from = errors.take(day("from", &self.from)).flatten();
        let until = errors
            .take(day("until", &self.until))
            .flatten()
            .map(|d| d + time::Duration::days(1));
        let action = match self.action.trim() {
            "" => None,
            a => errors
                .take(AuditAction::parse("action", a))
                .map(|a| a.code().to_string()),
        };
        let text = |s: &str| Some(s.trim().to_string()).filter(|s| !s.is_empty());
        errors.finish(|| AuditFilter {
            actor: text(&self.actor).map(|a| a.to_ascii_lowercase()),
            action,
            record_id: text(&self.record),
            from,
            until,
            max_seq: None,
            page: PageRequest::new(self.page.unwrap_or(1), size),
        })
    }

    fn query_string(&self) -> String {
        form_urlencoded::Serializer::new(String::new())
            .append_pair("actor", &self.actor)
            .append_pair("action", &self.action)
            .append_pair("record", &self.record)
            .append_pair("from", &self.from)
            .append_pair("until", &self.until)
            .finish()
    }
}

#[derive(Template)]
#[template(path = "audit.html")]
struct AuditPage {
    c: Page,
    q: AuditQuery,
    result: ResultPage<AuditEvent>,
    actions: Vec<&'static str>,
    query_string: String,
}

pub(crate) async fn list(
    State(state): State<AppState>,
    auth: Authz<need::AuditRead>,
    Query(q): Query<AuditQuery>,
) -> Result<Response, AppError> {
    let filter = q.filter(100)?;
    let result = state.db(move |s| s.audit_events(&filter)).await?;
    Ok(render(&AuditPage {
        c: Page::new(&state, &auth.ctx, "audit-title"),
        query_string: q.query_string(),
        q,
        result,
        actions: AuditAction::ALL.iter().map(|a| a.code()).collect(),
    }))
}

/// Quotes a CSV field (RFC 4180) and defuses spreadsheet formulas (a
/// leading `=`, `+`, `-`, `@` gets a `'`), since exports are opened in
/// spreadsheet programs.
pub(crate) fn csv_field(s: &str) -> String {
    let s = if s.starts_with(['=', '+', '-', '@', '\t', '\r']) {
        format!("'{s}")
    } else {
        s.to_string()
    };
    if s.contains([',', '"', '\n', '\r']) {
        format!("\"{}\"", s.replace('"', "\"\""))
    } else {
        s
    }
}

pub(crate) async fn export_csv(
    State(state): State<AppState>,
    auth: Authz<need::AuditExport>,
    Query(q): Query<AuditQuery>,
) -> Result<Response, AppError> {
    let mut base = q.filter(PageRequest::MAX_SIZE)?;
    let audit = auth.ctx.audit(state.clock.now());
    let event = audit.event(AuditAction::AuditExport, "audit", None, &q.query_string());
    state.db(move |s| s.record_audit(&event)).await?;
    let mut out = String::from("seq,at,actor_id,actor_name,action,record_kind,record_id,request_id,address,detail\n");
    let mut page = 1;
    loop {
        let mut f = base.clone();
        f.page = PageRequest::new(page, PageRequest::MAX_SIZE);
        let result = state.db(move |s| s.audit_events(&f)).await?;
        if base.max_seq.is_none() {
            base.max_seq = Some(result.items.first().map_or(0, |e| e.seq));
        }
        for e in &result.items {
            let row = [
                e.seq.to_string(),
                e.at.format(&time::format_description::well_known::Rfc3339)
                    .unwrap_or_default(),
                e.actor_id.map(|a| a.to_string()).unwrap_or_default(),
                e.actor_name.clone(),
                e.action.clone(),
                e.record_kind.clone(),
                e.record_id.clone().unwrap_or_default(),
                e.request_id.clone(),
                e.address.clone().unwrap_or_default(),
                e.detail.clone(),
            ];
            out.push_str(&row.iter().map(|f| csv_field(f)).collect::<Vec<_>>().join(","));
            out.push('\n');
        }
        if page >= result.pages() {
            break;
        }
        page += 1;
    }
    Ok((
        [
            (header::CONTENT_TYPE, "text/csv; charset=utf-8"),
            (
                header::CONTENT_DISPOSITION,
                "attachment; filename=\"lantern-audit.csv\"",
            ),
        ],
        out,
    )
        .into_response())
}

#[cfg(test)]
mod tests {
    use super::csv_field;

    #[test]
    fn csv_quotes_and_defuses_formulas() {
        assert_eq!(csv_field("plain"), "plain");
        assert_eq!(csv_field("a,b"), "\"a,b\"");
        assert_eq!(csv_field("say \"hi\""), "\"say \"\"hi\"\"\"");
        assert_eq!(csv_field("=HYPERLINK(1)"), "'=HYPERLINK(1)");
        assert_eq!(csv_field("-1,2"), "\"'-1,2\"");
    }
}
