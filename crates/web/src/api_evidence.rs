//! The JSON API of evidence files (`/api/v1/evidence…`). Uploads are
//! multipart, streamed into the vault like the page's; content comes out
//! only after the access is in the chain of custody.

use axum::extract::multipart::{Multipart, MultipartRejection};
use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use axum::{Json, Router};
use lantern_domain::evidence::CustodyKind;
use lantern_store::{CustodyEvent, Evidence, PageRequest};
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};

use crate::api::{rfc3339, ApiJson, ApiQuery, ErrorBody};
use crate::authz::{need, Authz};
use crate::error::AppError;
use crate::pages::evidence::{content, evidence_id, receive, record};
use crate::AppState;

/// The evidence routes, nested under `/api/v1`.
pub fn routes() -> Router<AppState> {
    Router::new()
        .route(
            "/evidence",
            get(list_evidence)
                .post(upload_evidence)
                .layer(axum::extract::DefaultBodyLimit::disable()),
        )
        .route("/evidence/{id}", get(get_evidence))
        .route(
            "/evidence/{id}/copies",
            post(upload_copy).layer(axum::extract::DefaultBodyLimit::disable()),
        )
        .route("/evidence/{id}/content", get(get_content))
        .route("/evidence/{id}/transfers", post(add_transfer))
}

/// An evidence record (its protected description is not served here).
#[derive(Serialize, ToSchema)]
pub struct EvidenceOut {
    id: String,
    title: String,
    media_type: String,
    /// SHA-256 of the content, 64 hex digits.
    sha256: String,
    size: u64,
    created_at: String,
    created_by: String,
    /// For a working copy: its original.
    derived_from: Option<String>,
    /// For a working copy: `thumbnail`, `transcode`, `redacted`, `translation` or `other`.
    derivation: Option<String>,
    /// Working copies made from it.
    copies: Vec<String>,
    /// Other records of the same content (duplicates).
    same_content: Vec<String>,
}

fn out(e: Evidence) -> EvidenceOut {
    EvidenceOut {
        id: e.id.to_string(),
        title: e.title,
        media_type: e.media_type,
        sha256: e.sha256,
        size: e.size,
        created_at: rfc3339(e.created_at),
        created_by: e.created_by,
        derived_from: e.derived_from.map(|d| d.to_string()),
        derivation: e.derivation.map(|d| d.code().to_string()),
        copies: e.copies.iter().map(ToString::to_string).collect(),
        same_content: e.same_content.iter().map(ToString::to_string).collect(),
    }
}

/// One link of the chain of custody.
#[derive(Serialize, ToSchema)]
pub struct CustodyOut {
    seq: u64,
    at: String,
    /// `received`, `accessed`, `transferred`, `derived` or `exported`.
    kind: String,
    actor: String,
    counterpart: Option<String>,
    method: Option<String>,
    sha256: String,
}

fn custody_out(c: CustodyEvent) -> CustodyOut {
    CustodyOut {
        seq: c.seq,
        at: rfc3339(c.at),
        kind: c.kind.code().to_string(),
        actor: c.actor,
        counterpart: c.counterpart,
        method: c.method,
        sha256: c.sha256,
    }
}

/// An evidence record with its chain of custody.
#[derive(Serialize, ToSchema)]
pub struct EvidenceDetailOut {
    evidence: EvidenceOut,
    custody: Vec<CustodyOut>,
}

/// A page of evidence records, newest first.
#[derive(Serialize, ToSchema)]
pub struct EvidencePage {
    items: Vec<EvidenceOut>,
    page: u32,
    size: u32,
    total: u64,
}

/// Paging.
#[derive(Deserialize, IntoParams, Default)]
#[into_params(parameter_in = Query)]
pub struct EvidenceParams {
    #[serde(default)]
    page: Option<u32>,
    #[serde(default)]
    size: Option<u32>,
}

#[utoipa::path(get, path = "/evidence", params(EvidenceParams), tag = "evidence",
    responses((status = 200, body = EvidencePage), (status = 403, body = ErrorBody)))]
async fn list_evidence(
    State(state): State<AppState>,
    _auth: Authz<need::EvidenceRead>,
    ApiQuery(p): ApiQuery<EvidenceParams>,
) -> Result<Json<EvidencePage>, AppError> {
    let page = PageRequest::new(p.page.unwrap_or(1), p.size.unwrap_or(50));
    let r = state.db(move |s| s.evidence_list(page)).await?;
    Ok(Json(EvidencePage {
        items: r.items.into_iter().map(out).collect(),
        page: r.page,
        size: r.size,
        total: r.total,
    }))
}

/// A multipart upload: `title` (required), `description`, `received_from`,
/// `received_how`, then `file`; for a working copy also `derivation`.
#[derive(ToSchema)]
#[allow(dead_code)]
pub struct EvidenceUpload {
    title: String,
    description: Option<String>,
    received_from: Option<String>,
    received_how: Option<String>,
    derivation: Option<String>,
    #[schema(format = Binary, value_type = String)]
    file: Vec<u8>,
}

#[utoipa::path(post, path = "/evidence", tag = "evidence",
    request_body(content = EvidenceUpload, content_type = "multipart/form-data"),
    responses((status = 201, body = EvidenceOut), (status = 422, body = ErrorBody),
        (status = 503, body = ErrorBody, description = "the object storage cannot be reached; nothing was saved")))]
async fn upload_evidence(
    State(state): State<AppState>,
    auth: Authz<need::EvidenceWrite>,
    multipart: Result<Multipart, MultipartRejection>,
) -> Result<Response, AppError> {
    let upload = receive(&state, multipart).await?;
    let added = record(&state, &auth.ctx, upload, None).await?;
    Ok((StatusCode::CREATED, Json(out(added.evidence))).into_response())
}

#[utoipa::path(post, path = "/evidence/{id}/copies", tag = "evidence",
    request_body(content = EvidenceUpload, content_type = "multipart/form-data"),
    responses((status = 201, body = EvidenceOut), (status = 422, body = ErrorBody), (status = 404, body = ErrorBody)))]
async fn upload_copy(
    State(state): State<AppState>,
    auth: Authz<need::EvidenceWrite>,
    Path(id): Path<String>,
    multipart: Result<Multipart, MultipartRejection>,
) -> Result<Response, AppError> {
    let id = evidence_id(&id)?;
    let upload = receive(&state, multipart).await?;
    let added = record(&state, &auth.ctx, upload, Some(id)).await?;
    Ok((StatusCode::CREATED, Json(out(added.evidence))).into_response())
}

#[utoipa::path(get, path = "/evidence/{id}", tag = "evidence",
    responses((status = 200, body = EvidenceDetailOut), (status = 404, body = ErrorBody)))]
async fn get_evidence(
    State(state): State<AppState>,
    _auth: Authz<need::EvidenceRead>,
    Path(id): Path<String>,
) -> Result<Json<EvidenceDetailOut>, AppError> {
    let id = evidence_id(&id)?;
    let e = state.db(move |s| s.evidence(id)).await?.ok_or(AppError::NotFound)?;
    let custody = state.db(move |s| s.custody(id)).await?;
    Ok(Json(EvidenceDetailOut {
        evidence: out(e),
        custody: custody.into_iter().map(custody_out).collect(),
    }))
}

#[utoipa::path(get, path = "/evidence/{id}/content", tag = "evidence",
    responses((status = 200, description = "the original content; header X-Evidence-SHA256 names its hash"),
        (status = 404, body = ErrorBody)))]
async fn get_content(
    State(state): State<AppState>,
    auth: Authz<need::EvidenceOpen>,
    Path(id): Path<String>,
) -> Result<Response, AppError> {
    content(&state, &auth.ctx, evidence_id(&id)?, CustodyKind::Accessed, None).await
}

/// A hand-over: to whom (required) and how.
#[derive(Deserialize, ToSchema)]
pub struct TransferIn {
    to: String,
    #[serde(default)]
    method: Option<String>,
}

#[utoipa::path(post, path = "/evidence/{id}/transfers", request_body = TransferIn, tag = "evidence",
    responses((status = 201, body = CustodyOut), (status = 422, body = ErrorBody), (status = 404, body = ErrorBody)))]
async fn add_transfer(
    State(state): State<AppState>,
    auth: Authz<need::EvidenceWrite>,
    Path(id): Path<String>,
    ApiJson(b): ApiJson<TransferIn>,
) -> Result<Response, AppError> {
    let id = evidence_id(&id)?;
    let method = match b.method.as_deref() {
        Some(m) => lantern_domain::evidence::short_text("method", m)?,
        None => None,
    };
    let audit = auth.ctx.audit(state.clock.now());
    let event = state.db(move |s| s.record_transfer(id, &b.to, method, &audit)).await?;
    Ok((StatusCode::CREATED, Json(custody_out(event))).into_response())
}
