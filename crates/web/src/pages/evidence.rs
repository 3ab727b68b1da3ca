//! Evidence files: upload (streamed into the vault, never held in memory),
//! the record with its working copies and chain of custody, download,
//! and custody transfers.
//!
//! Every path that lets content out (the page's download, the API's
//! content route) first asks the store to record the access in the chain
//! of custody and the audit trail ([`lantern_store::Store::open_evidence`]).

use askama::Template;
use axum::body::Body;
use axum::extract::multipart::{Multipart, MultipartRejection};
use axum::extract::{Path, Query, State};
use axum::http::header;
use axum::response::{IntoResponse, Redirect, Response};
use axum::Form;
use lantern_domain::evidence::{self as ev, CustodyKind, Derivation, EvidenceId};
use lantern_domain::policy::Permission;
use lantern_domain::{FieldError, FieldErrors, Reason};
use lantern_store::{
    AddedEvidence, CustodyEvent, Evidence, EvidenceDetails, NewEvidence, Page as ResultPage, PageRequest, StoredObject,
};
use lantern_vault::objects::{hash_from_hex, hex_hash, Ingested, ObjectError};
use serde::Deserialize;

use super::{field, form_status, no_errors, Pairs};
use crate::authz::{need, Authz};
use crate::context::Ctx;
use crate::error::AppError;
use crate::view::{render_status, Page};
use crate::AppState;

/// Longest text field accepted in an upload form.
const MAX_TEXT_FIELD: usize = 64 * 1024;
/// All text fields of an upload form together (the file is apart): the
/// body limit does not apply to these routes, so the form's text must be
/// bounded here.
const MAX_TEXT_FIELDS: usize = 256 * 1024;
/// After a file passes the limit, this much more of it is read and dropped
/// so the sender gets the answer instead of a broken connection.
const DRAIN: u64 = 16 * 1024 * 1024;

pub(crate) fn evidence_id(raw: &str) -> Result<EvidenceId, AppError> {
    EvidenceId::parse("id", raw).map_err(|_| AppError::NotFound)
}

/// An upload as received: its text fields and the stored file, if any.
pub(crate) struct Upload {
    /// The text fields.
    pub fields: Pairs,
    /// The file, stored, and the media type and file name it came with.
    pub file: Option<(Ingested, String, Option<String>)>,
}

fn storage_error(e: ObjectError, limit: u64) -> AppError {
    match e {
        ObjectError::TooLarge { .. } => FieldError::new(
            "file",
            Reason::FileTooLarge {
                max_mb: (limit / (1024 * 1024)) as usize,
            },
        )
        .into(),
        ObjectError::Interrupted(_) => FieldError::new("file", Reason::InvalidFormat).into(),
        ObjectError::Storage(e) => AppError::StorageUnavailable(e.to_string()),
        other => AppError::Internal(other.to_string()),
    }
}

/// Reads a multipart upload: text fields into pairs, the `file` field
/// streamed into the vault. A second file field is refused.
pub(crate) async fn receive(
    state: &AppState,
    multipart: Result<Multipart, MultipartRejection>,
) -> Result<Upload, AppError> {
    receive_form(state, multipart).await.map_err(|(e, _)| e)
}

/// As [`receive`], but a refusal also gives back the text fields read
/// until then, so a form can be shown again with what was typed.
pub(crate) async fn receive_form(
    state: &AppState,
    multipart: Result<Multipart, MultipartRejection>,
) -> Result<Upload, (AppError, Pairs)> {
    let mut multipart = multipart.map_err(|_| (FieldError::new("file", Reason::InvalidFormat).into(), Vec::new()))?;
    let limit = state.config.max_evidence;
    let mut upload = Upload {
        fields: Vec::new(),
        file: None,
    };
    let mut text_bytes = 0;
    let outcome = loop {
        let field = match multipart.next_field().await {
            Ok(Some(f)) => f,
            Ok(None) => break Ok(()),
            Err(_) => break Err(FieldError::new("file", Reason::InvalidFormat).into()),
        };
        let name = field.name().unwrap_or_default().to_string();
        if name == "file" {
            if upload.file.is_some() {
                break Err(FieldError::new("file", Reason::Duplicate).into());
            }
            let media_type = ev::media_type(field.content_type().unwrap_or_default());
            let filename = field.file_name().map(str::to_string);
            let mut field = field;
            let stream = async_stream(&mut field);
            match state.vault.ingest(stream, limit).await {
                Ok(ingested) => upload.file = Some((ingested, media_type, filename)),
                Err(e) => {
                    let too_large = matches!(e, ObjectError::TooLarge { .. });
                    if too_large {
                        drain(&mut field).await;
                    }
                    break Err(storage_error(e, limit));
                }
            }
        } else {
            match field.text().await {
                Ok(t) if t.len() <= MAX_TEXT_FIELD && text_bytes + t.len() <= MAX_TEXT_FIELDS => {
                    text_bytes += t.len();
                    upload.fields.push((name, t));
                }
                Ok(_) => break Err(AppError::PayloadTooLarge),
                Err(_) => break Err(FieldError::new(name, Reason::InvalidFormat).into()),
            }
        }
    };
    match outcome {
        Ok(()) => Ok(upload),
        Err(e) => {
            discard(state, &upload).await;
            Err((e, upload.fields))
        }
    }
}

/// A multipart field as a stream of byte pieces.
fn async_stream<'a, 'b>(
    field: &'a mut axum::extract::multipart::Field<'b>,
) -> impl futures_util::Stream<Item = Result<axum::body::Bytes, String>> + Send + use<'a, 'b> {
    futures_util::stream::unfold(field, |f| async move {
        match f.chunk().await {
            Ok(Some(bytes)) => Some((Ok(bytes), f)),
            Ok(None) => None,
            Err(e) => Some((Err(e.to_string()), f)),
        }
    })
}

async fn drain(field: &mut axum::extract::multipart::Field<'_>) {
    let mut dropped = 0u64;
    while let Ok(Some(bytes)) = field.chunk().await {
        dropped += bytes.len() as u64;
        if dropped > DRAIN {
            break;
        }
    }
}

/// Deletes the object of an upload that will not be recorded.
pub(crate) async fn discard(state: &AppState, upload: &Upload) {
    if let Some((ingested, _, _)) = &upload.file {
        if let Err(e) = state.vault.delete(&ingested.name).await {
            tracing::warn!(object = %ingested.name, "unrecorded object not deleted (the next start sweeps it): {e}");
        }
    }
}

/// Checks an upload's fields and records it; on any refusal the stored
/// object is deleted, so no object outlives a refused upload and no
/// record names a missing one.
pub(crate) async fn record(
    state: &AppState,
    ctx: &Ctx,
    upload: Upload,
    original: Option<EvidenceId>,
) -> Result<AddedEvidence, AppError> {
    let new = checked(state, &upload, original).await?;
    let audit = ctx.audit(state.clock.now());
    let details = new.details.clone();
    let added = match state.db(move |s| s.add_evidence(&new, &audit)).await {
        Ok(a) => a,
        Err(e) => {
            discard(state, &upload).await;
            return Err(e);
        }
    };
    recorded(state, &added, &details).await;
    Ok(added)
}

/// An upload's fields checked into the record to add; on a refusal the
/// stored object is deleted.
pub(crate) async fn checked(
    state: &AppState,
    upload: &Upload,
    original: Option<EvidenceId>,
) -> Result<NewEvidence, AppError> {
    let mut errors = FieldErrors::new();
    let form = &upload.fields;
    let title = errors.take(ev::title("title", field(form, "title")));
    let description = errors.take(ev::description("description", field(form, "description")));
    let received_from = errors.take(ev::short_text("received_from", field(form, "received_from")));
    let received_how = errors.take(ev::short_text("received_how", field(form, "received_how")));
    let derivation = match original {
        Some(_) => errors.take(Derivation::parse("derivation", field(form, "derivation"))),
        None => None,
    };
    if upload.file.is_none() {
        errors.push("file", Reason::Required);
    }
    let (
        Some(title),
        Some(description),
        Some(received_from),
        Some(received_how),
        true,
        Some((ingested, media, filename)),
    ) = (
        title,
        description,
        received_from,
        received_how,
        errors.is_empty(),
        upload.file.clone(),
    )
    else {
        discard(state, upload).await;
        return Err(errors.into());
    };
    let filename = filename.and_then(|f| ev::short_text("file", &f).ok().flatten());
    Ok(NewEvidence {
        object: StoredObject {
            name: ingested.name.clone(),
            sha256: hex_hash(&ingested.sha256),
            size: ingested.size,
            wrapped_key: ingested.wrapped_key.clone(),
        },
        title,
        media_type: media,
        details: EvidenceDetails { filename, description },
        received_from,
        received_how,
        derived_from: original.zip(derivation),
    })
}

/// What follows a committed evidence record: it joins the search index,
/// and a second copy of content already stored is deleted.
pub(crate) async fn recorded(state: &AppState, added: &AddedEvidence, details: &EvidenceDetails) {
    state.index_evidence(&added.evidence, details).await;
    if let Some(redundant) = &added.redundant_object {
        if let Err(e) = state.vault.delete(redundant).await {
            tracing::warn!(object = %redundant, "second copy not deleted (the next start sweeps it): {e}");
        }
    }
}

/// Streams an evidence file out after its access is recorded.
pub(crate) async fn content(
    state: &AppState,
    ctx: &Ctx,
    id: EvidenceId,
    kind: CustodyKind,
    counterpart: Option<String>,
) -> Result<Response, AppError> {
    let audit = ctx.audit(state.clock.now());
    let opened = state
        .db(move |s| s.open_evidence(id, kind, counterpart, &audit))
        .await?;
    let sha = hash_from_hex(&opened.object.sha256)
        .ok_or_else(|| AppError::Internal("the stored hash is not a SHA-256".into()))?;
    let stream = state
        .vault
        .read(&opened.object.name, &opened.object.wrapped_key, sha)
        .await
        .map_err(|e| match e {
            ObjectError::Storage(e) => AppError::StorageUnavailable(e.to_string()),
            other => AppError::Internal(other.to_string()),
        })?;
    let name = opened.filename.unwrap_or_else(|| format!("evidence-{id}"));
    Ok((
        [
            (header::CONTENT_TYPE, opened.evidence.media_type.clone()),
            (header::CONTENT_LENGTH, opened.evidence.size.to_string()),
            (header::CONTENT_DISPOSITION, attachment(&name, id)),
            (header::CACHE_CONTROL, "private, no-store".to_string()),
            // Uploaded content never runs as a page of this site.
            (
                header::CONTENT_SECURITY_POLICY,
                "sandbox; default-src 'none'".to_string(),
            ),
            (
                header::HeaderName::from_static("x-evidence-sha256"),
                opened.object.sha256.clone(),
            ),
        ],
        Body::from_stream(stream),
    )
        .into_response())
}

/// `Content-Disposition: attachment` with the file name in RFC 6266 form:
/// an ASCII fallback and the UTF-8 name percent-encoded (RFC 8187).
fn attachment(name: &str, id: EvidenceId) -> String {
    let mut encoded = String::new();
    for b in name.as_bytes() {
        if b.is_ascii_alphanumeric() || b"!#$&+-.^_`|~".contains(b) {
            encoded.push(*b as char);
        } else {
            encoded.push_str(&format!("%{b:02X}"));
        }
    }
    format!("attachment; filename=\"evidence-{id}\"; filename*=UTF-8''{encoded}")
}

#[derive(Template)]
#[template(path = "evidence_list.html")]
struct ListPage {
    c: Page,
    result: ResultPage<Evidence>,
    query_string: String,
    errors: FieldErrors,
    form: Pairs,
}

impl ListPage {
    fn value(&self, name: &str) -> &str {
        field(&self.form, name)
    }
}

#[derive(Deserialize, Default)]
pub(crate) struct ListParams {
    #[serde(default)]
    page: Option<u32>,
}

async fn list_page(
    state: &AppState,
    ctx: &Ctx,
    page: u32,
    errors: FieldErrors,
    form: Pairs,
) -> Result<Response, AppError> {
    let result = state.db(move |s| s.evidence_list(PageRequest::new(page, 50))).await?;
    let status = form_status(&errors);
    Ok(render_status(
        status,
        &ListPage {
            c: Page::new(state, ctx, "evidence-title"),
            result,
            query_string: String::new(),
            errors,
            form,
        },
    ))
}

pub(crate) async fn list(
    State(state): State<AppState>,
    auth: Authz<need::EvidenceRead>,
    Query(p): Query<ListParams>,
) -> Result<Response, AppError> {
    list_page(&state, &auth.ctx, p.page.unwrap_or(1), no_errors(), Vec::new()).await
}

pub(crate) async fn upload(
    State(state): State<AppState>,
    auth: Authz<need::EvidenceWrite>,
    multipart: Result<Multipart, MultipartRejection>,
) -> Result<Response, AppError> {
    let upload = match receive_form(&state, multipart).await {
        Ok(u) => u,
        Err((AppError::Invalid(errors), form)) => return list_page(&state, &auth.ctx, 1, errors, form).await,
        Err((e, _)) => return Err(e),
    };
    let form = upload.fields.clone();
    match record(&state, &auth.ctx, upload, None).await {
        Ok(added) => Ok(Redirect::to(&format!("/evidence/{}", added.evidence.id)).into_response()),
        Err(AppError::Invalid(errors)) => list_page(&state, &auth.ctx, 1, errors, form).await,
        Err(e) => Err(e),
    }
}

#[derive(Template)]
#[template(path = "evidence_view.html")]
struct ViewPage {
    c: Page,
    e: Evidence,
    details: Option<EvidenceDetails>,
    custody: Vec<CustodyEvent>,
    derivations: Vec<&'static str>,
    errors: FieldErrors,
}

async fn view_page(state: &AppState, ctx: &Ctx, id: EvidenceId, errors: FieldErrors) -> Result<Response, AppError> {
    let e = state.db(move |s| s.evidence(id)).await?.ok_or(AppError::NotFound)?;
    let custody = state.db(move |s| s.custody(id)).await?;
    let c = Page::new(state, ctx, "evidence-record");
    // The description and file name are protected: only those who may
    // open the file see them, and their read is audited.
    let details = if c.can(Permission::EvidenceOpen.code()) {
        let audit = ctx.audit(state.clock.now());
        Some(state.db(move |s| s.read_evidence_details(id, &audit)).await?)
    } else {
        None
    };
    let status = form_status(&errors);
    Ok(render_status(
        status,
        &ViewPage {
            c,
            e,
            details,
            custody,
            derivations: Derivation::ALL.iter().map(|d| d.code()).collect(),
            errors,
        },
    ))
}

pub(crate) async fn show(
    State(state): State<AppState>,
    auth: Authz<need::EvidenceRead>,
    Path(id): Path<String>,
) -> Result<Response, AppError> {
    view_page(&state, &auth.ctx, evidence_id(&id)?, no_errors()).await
}

pub(crate) async fn upload_copy(
    State(state): State<AppState>,
    auth: Authz<need::EvidenceWrite>,
    Path(id): Path<String>,
    multipart: Result<Multipart, MultipartRejection>,
) -> Result<Response, AppError> {
    let id = evidence_id(&id)?;
    let added = match receive(&state, multipart).await {
        Ok(upload) => record(&state, &auth.ctx, upload, Some(id)).await,
        Err(e) => Err(e),
    };
    match added {
        Ok(added) => Ok(Redirect::to(&format!("/evidence/{}", added.evidence.id)).into_response()),
        Err(AppError::Invalid(errors)) => view_page(&state, &auth.ctx, id, errors).await,
        Err(e) => Err(e),
    }
}

pub(crate) async fn download(
    State(state): State<AppState>,
    auth: Authz<need::EvidenceOpen>,
    Path(id): Path<String>,
) -> Result<Response, AppError> {
    content(&state, &auth.ctx, evidence_id(&id)?, CustodyKind::Accessed, None).await
}

pub(crate) async fn transfer(
    State(state): State<AppState>,
    auth: Authz<need::EvidenceWrite>,
    Path(id): Path<String>,
    Form(form): Form<Pairs>,
) -> Result<Response, AppError> {
    let id = evidence_id(&id)?;
    let mut errors = FieldErrors::new();
    let method = errors.take(ev::short_text("method", field(&form, "method")));
    let to = field(&form, "to").to_string();
    if let (Some(method), true) = (method, errors.is_empty()) {
        let audit = auth.ctx.audit(state.clock.now());
        match state.db(move |s| s.record_transfer(id, &to, method, &audit)).await {
            Ok(_) => return Ok(Redirect::to(&format!("/evidence/{id}")).into_response()),
            Err(AppError::Invalid(e)) => errors = e,
            Err(e) => return Err(e),
        }
    }
    view_page(&state, &auth.ctx, id, errors).await
}
